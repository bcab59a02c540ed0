#include "workers/scrape/crawler.hpp"

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/log.hpp"
#include "events/base/sha256.hpp"

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;
using Clock = std::chrono::steady_clock;
namespace log = base::log;

// How long one Wait on the fetcher may block: the stop token and the
// deadline are looked at this often.
constexpr std::chrono::milliseconds kPollSlice{200};

struct Task {
  FetchKind kind = FetchKind::kPage;
  Url url;       // to fetch now
  Url original;  // as first requested (a hand-over continues from a redirect)
  int depth = 0;
  int redirects = 0;     // spent before this continuation
  std::string page_url;  // page: the page linking to it; image: the page it is on
  ImageSource source = ImageSource::kImg;
  ImageContext context;
};

class CrawlRun {
 public:
  CrawlRun(HttpFetcher& fetcher, CrawlSink& sink, const CrawlOptions& options, SearchProvider* search,
           RobotsCache& robots, const CrawlRequest& request)
      : fetcher_(fetcher), sink_(sink), options_(options), search_(search), robots_(robots), request_(request) {}

  base::Result<CrawlReport> Run(std::stop_token stop, const CrawlProgress& progress) {
    started_ = Clock::now();
    if (request_.urls.empty() && request_.queries.empty())
      return Fail(ErrorCode::kInvalidArgument, "a crawl needs seed URLs or search queries");
    if (auto seeded = Seed(stop); !seeded) return std::unexpected(seeded.error());
    last_progress_ = started_;
    std::optional<Clock::time_point> deadline;
    if (options_.max_duration.count() > 0) deadline = started_ + options_.max_duration;

    while (true) {
      if (stop.stop_requested()) {
        report_.stopped = "cancelled";
        break;
      }
      if (deadline && Clock::now() >= *deadline) {
        report_.stopped = "deadline";
        break;
      }
      Pump();
      if (fetcher_.Outstanding() == 0) break;
      for (FetchResult& result : fetcher_.Wait(kPollSlice)) {
        if (auto handled = Handle(std::move(result)); !handled) {
          fetcher_.CancelAll();
          return std::unexpected(handled.error());
        }
      }
      if (progress && Clock::now() - last_progress_ >= options_.progress_interval) {
        last_progress_ = Clock::now();
        progress(Snapshot());
      }
    }
    if (!report_.stopped.empty()) fetcher_.CancelAll();
    CrawlReport final_report = Snapshot();
    if (progress) progress(final_report);
    log::Info("crawl finished", {{"pages", final_report.pages_captured},
                                 {"images", final_report.images_downloaded},
                                 {"failures", final_report.failures.Total()},
                                 {"stopped", final_report.stopped},
                                 {"ms", final_report.elapsed.count()}});
    return final_report;
  }

 private:
  CrawlReport Snapshot() {
    report_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
    return report_;
  }

  // --- seeds ----------------------------------------------------------------

  // Seeds and search results; the searches (blocking, one after another) stop
  // early when `stop` is requested.
  base::Result<void> Seed(const std::stop_token& stop) {
    for (const auto& text : request_.urls) {
      auto url = Url::Parse(text);
      if (!url) {
        Count(text, FailureClass::kBadUrl, url.error().message);
        continue;
      }
      AddSeedPage(std::move(*url));
    }
    std::optional<base::Error> search_error;
    for (const auto& query : request_.queries) {
      if (stop.stop_requested()) break;
      if (search_ == nullptr) {
        Count(query, FailureClass::kSearch, "no search provider configured");
        search_error = base::Error{ErrorCode::kFailedPrecondition, "no search provider configured", std::nullopt};
        continue;
      }
      auto results = search_->Search(query);
      if (!results) {
        Count(query, FailureClass::kSearch, results.error().message);
        search_error = results.error();
        continue;
      }
      report_.search_results += static_cast<int>(results->size());
      for (const auto& result : *results) AddSearchResult(result);
    }
    if (pages_.empty() && images_.empty() && search_error) return std::unexpected(*search_error);
    return {};
  }

  void AddSeedPage(Url url) {
    hosts_.insert(url.host());
    if (!seen_pages_.insert(url.spec()).second) return;
    Task task;
    task.kind = FetchKind::kPage;
    task.original = url;
    task.url = std::move(url);
    pages_.push_back(std::move(task));
  }

  void AddSearchResult(const SearchResult& result) {
    std::string page_url;
    if (!result.url.empty()) {
      if (auto url = Url::Parse(result.url)) {
        page_url = url->spec();
        AddSeedPage(std::move(*url));
      } else {
        Count(result.url, FailureClass::kBadUrl, url.error().message);
      }
    }
    if (result.image_url.empty()) return;
    auto image = Url::Parse(result.image_url);
    if (!image) {
      Count(result.image_url, FailureClass::kBadUrl, image.error().message);
      return;
    }
    if (!seen_images_.insert(image->spec()).second) return;
    Task task;
    task.kind = FetchKind::kImage;
    task.original = *image;
    task.url = std::move(*image);
    task.page_url = page_url;
    task.source = ImageSource::kSearchResult;
    task.context.title = result.title;
    images_.push_back(std::move(task));
  }

  // --- scheduling -------------------------------------------------------------

  bool ImageBudgetLeft() const {
    return report_.images_downloaded + images_in_flight_ < request_.max_images;
  }
  bool PageBudgetLeft() const {
    return report_.pages_captured + pages_in_flight_ < request_.max_pages &&
           report_.images_downloaded < request_.max_images;
  }

  // Hands the fetcher what the limits allow: images first (they finish the
  // pages already captured), then pages in breadth-first order.
  void Pump() {
    while (fetcher_.Outstanding() < options_.max_outstanding) {
      Task task;
      if (!images_.empty() && ImageBudgetLeft()) {
        task = std::move(images_.front());
        images_.pop_front();
      } else if (!pages_.empty() && PageBudgetLeft()) {
        task = std::move(pages_.front());
        pages_.pop_front();
      } else {
        return;
      }
      Dispatch(std::move(task));
    }
  }

  // Robots first: a task for an origin whose robots.txt is not known waits
  // for it.
  void Dispatch(Task task) {
    std::string origin = task.url.Origin();
    auto entry = robots_.Lookup(origin);
    if (entry == nullptr) {
      if (robots_pending_.insert(origin).second) SubmitRobots(task.url);
      waiting_[origin].push_back(std::move(task));
      return;
    }
    if (entry->unreachable) return Count(task.original.spec(), *entry->unreachable, entry->detail);
    if (!entry->robots.IsAllowed(options_.product_token, task.url.PathAndQuery()))
      return Count(task.original.spec(), FailureClass::kRobots,
                   entry->detail.empty() ? "disallowed by robots.txt" : entry->detail);
    ApplyCrawlDelay(task.url.host(), *entry);
    Submit(std::move(task));
  }

  // Fetches /robots.txt of `url`'s origin.
  void SubmitRobots(const Url& url) {
    auto robots_url = Url::Parse(url.RobotsUrl());
    // An origin of a parsed Url always parses again: failing is a bug.
    if (!robots_url) throw std::logic_error(fmt::format("{} does not parse", url.RobotsUrl()));
    std::uint64_t id = next_id_++;
    robots_requests_.emplace(id, url.Origin());
    FetchRequest request;
    request.id = id;
    request.url = std::move(*robots_url);
    request.kind = FetchKind::kRobots;
    request.max_redirects = options_.max_redirects;
    fetcher_.Submit(std::move(request));
  }

  void ApplyCrawlDelay(const std::string& host, const RobotsEntry& entry) {
    if (!delayed_hosts_.insert(host).second) return;
    if (auto delay = entry.robots.CrawlDelay(options_.product_token))
      fetcher_.SetHostDelay(host, std::min(*delay, options_.max_crawl_delay));
  }

  void Submit(Task task) {
    int redirects_left = options_.max_redirects - task.redirects;
    if (redirects_left < 0)
      return Count(task.original.spec(), FailureClass::kRedirects,
                   fmt::format("more than {} redirects", options_.max_redirects));
    std::uint64_t id = next_id_++;
    FetchRequest request;
    request.id = id;
    request.url = task.url;
    request.kind = task.kind;
    request.max_redirects = redirects_left;
    FetchKind kind = task.kind;
    request.on_redirect = [this, kind](const Url& next) { return CheckHop(next, kind); };
    (task.kind == FetchKind::kPage ? pages_in_flight_ : images_in_flight_)++;
    in_flight_.emplace(id, std::move(task));
    fetcher_.Submit(std::move(request));
  }

  // A redirect is followed only where robots.txt is known to allow it and to
  // a URL not fetched yet; otherwise (an origin not seen yet, a URL seen
  // before) the fetch is handed back and continues, or ends, as a new task.
  HopVerdict CheckHop(const Url& next, FetchKind kind) {
    auto& seen = kind == FetchKind::kPage ? seen_pages_ : seen_images_;
    auto entry = robots_.Lookup(next.Origin());
    if (entry == nullptr || seen.contains(next.spec())) return {HopAction::kHandOver, FailureClass::kOther, ""};
    if (entry->unreachable) return {HopAction::kRefuse, *entry->unreachable, entry->detail};
    if (!entry->robots.IsAllowed(options_.product_token, next.PathAndQuery()))
      return {HopAction::kRefuse, FailureClass::kRobots, fmt::format("redirect to {} disallowed by robots.txt", next.spec())};
    ApplyCrawlDelay(next.host(), *entry);
    seen.insert(next.spec());
    return {};
  }

  // --- results ------------------------------------------------------------------

  base::Result<void> Handle(FetchResult result) {
    report_.bytes_downloaded += static_cast<std::int64_t>(result.bytes_received);
    if (auto robots = robots_requests_.extract(result.id)) {
      OnRobots(robots.mapped(), result);
      return {};
    }
    auto node = in_flight_.extract(result.id);
    if (!node) throw std::logic_error(fmt::format("fetch result {} matches no request", result.id));
    Task task = std::move(node.mapped());
    (task.kind == FetchKind::kPage ? pages_in_flight_ : images_in_flight_)--;

    if (result.handed_over) {
      Continue(std::move(task), result);
      return {};
    }
    if (result.failure) {
      Count(task.original.spec(), *result.failure, result.detail);
      return {};
    }
    if (task.kind == FetchKind::kImage) return OnImage(task, result);
    return OnPage(std::move(task), result);
  }

  void OnRobots(const std::string& origin, const FetchResult& result) {
    RobotsEntry entry = RobotsEntryFromFetch(result);
    if (!entry.detail.empty()) log::Debug("robots.txt", {{"origin", origin}, {"detail", entry.detail}});
    robots_.Store(origin, std::move(entry));
    ++report_.robots_fetched;
    robots_pending_.erase(origin);
    auto waiting = waiting_.extract(origin);
    if (!waiting) return;
    // Back to the front of their queues, in their order: Pump judges them
    // against the limits again.
    auto& tasks = waiting.mapped();
    for (auto it = tasks.rbegin(); it != tasks.rend(); ++it)
      (it->kind == FetchKind::kPage ? pages_ : images_).push_front(std::move(*it));
  }

  // A redirect handed back by CheckHop: to a URL already seen (a duplicate,
  // dropped) or to an origin whose robots.txt was not known yet.
  void Continue(Task task, const FetchResult& result) {
    task.redirects += result.redirects;
    task.url = result.final_url;
    bool page = task.kind == FetchKind::kPage;
    if (!(page ? seen_pages_ : seen_images_).insert(task.url.spec()).second) {
      ++(page ? report_.pages_duplicate : report_.images_duplicate);
      return;
    }
    if (page && task.depth == 0) hosts_.insert(task.url.host());
    (page ? pages_ : images_).push_front(std::move(task));
  }

  base::Result<void> OnPage(Task task, const FetchResult& result) {
    RobotsDirectives directives;
    for (const auto& value : result.x_robots_tags)
      directives.Merge(ParseRobotsDirectives(value, options_.product_token));

    if (IsImageFormat(result.format)) {  // the page URL is an image
      if (directives.ForbidsImageAi()) {
        Count(task.original.spec(), FailureClass::kNoai, "X-Robots-Tag forbids AI use");
        return {};
      }
      if (report_.images_downloaded >= request_.max_images) return {};
      task.source = ImageSource::kPageUrl;
      return OnImage(task, result);
    }

    if (!captured_.insert(result.final_url.spec()).second) {
      ++report_.pages_duplicate;
      return {};
    }
    seen_pages_.insert(result.final_url.spec());
    if (task.depth == 0) hosts_.insert(result.final_url.host());

    ExtractOptions extract = options_.extract;
    extract.product_token = options_.product_token;
    ExtractedPage page = ExtractPage(result.body, result.final_url, extract);
    directives.Merge(page.robots);

    CapturedPage captured{.url = task.original,
                          .final_url = result.final_url,
                          .status = result.status,
                          .depth = task.depth,
                          .content_type = result.content_type,
                          .title = std::move(page.title),
                          .links = std::move(page.links),
                          .images = std::move(page.images),
                          .robots = directives,
                          .html = result.body};
    if (auto stored = sink_.OnPageCaptured(captured); !stored) return stored;
    ++report_.pages_captured;

    // The sink is done with `captured`: its images and links are taken from it.
    for (auto& image : captured.images) {
      if (!seen_images_.insert(image.url.spec()).second) continue;
      if (directives.ForbidsImageAi()) {
        Count(image.url.spec(), FailureClass::kNoai, fmt::format("page {} says noai/noimageai", result.final_url.spec()));
        continue;
      }
      Task next;
      next.kind = FetchKind::kImage;
      next.original = image.url;
      next.url = std::move(image.url);
      next.depth = task.depth;
      next.page_url = result.final_url.spec();
      next.source = image.source;
      next.context = std::move(image.context);
      images_.push_back(std::move(next));
    }
    if (directives.nofollow || task.depth + 1 > request_.max_depth) return {};
    for (auto& link : captured.links) {
      if (options_.scope == CrawlScope::kSameHost && !hosts_.contains(link.host())) continue;
      if (!seen_pages_.insert(link.spec()).second) continue;
      Task next;
      next.kind = FetchKind::kPage;
      next.original = link;
      next.url = std::move(link);
      next.depth = task.depth + 1;
      next.page_url = result.final_url.spec();
      pages_.push_back(std::move(next));
    }
    return {};
  }

  base::Result<void> OnImage(const Task& task, const FetchResult& result) {
    hasher_.Update(result.body);
    std::string sha256 = base::ToHex(hasher_.Finish());
    if (!image_hashes_.insert(sha256).second) {
      ++report_.images_duplicate;
      return {};
    }
    DownloadedImage image{.url = task.original,
                          .final_url = result.final_url,
                          .page_url = task.page_url,
                          .source = task.source,
                          .context = task.context,
                          .bytes = result.body,
                          .format = result.format,
                          .content_type = result.content_type,
                          .size = ReadImageSize(result.body, result.format),
                          .sha256 = std::move(sha256)};
    if (auto stored = sink_.OnImageDownloaded(image); !stored) return stored;
    ++report_.images_downloaded;
    return {};
  }

  void Count(const std::string& url, FailureClass failure, std::string detail) {
    report_.failures.Add(failure);
    if (report_.failure_samples.size() < options_.max_failure_samples)
      report_.failure_samples.push_back({url, failure, std::move(detail)});
  }

  HttpFetcher& fetcher_;
  CrawlSink& sink_;
  const CrawlOptions& options_;
  SearchProvider* search_;
  RobotsCache& robots_;
  const CrawlRequest& request_;

  CrawlReport report_;
  Clock::time_point started_;
  Clock::time_point last_progress_;
  std::uint64_t next_id_ = 1;
  std::deque<Task> pages_;
  std::deque<Task> images_;
  int pages_in_flight_ = 0;
  int images_in_flight_ = 0;
  std::unordered_map<std::uint64_t, Task> in_flight_;
  std::unordered_map<std::uint64_t, std::string> robots_requests_;  // id -> origin
  std::unordered_set<std::string> robots_pending_;                  // origins
  std::unordered_map<std::string, std::vector<Task>> waiting_;      // origin -> tasks waiting for its robots.txt
  std::unordered_set<std::string> delayed_hosts_;
  std::unordered_set<std::string> hosts_;  // where pages are followed (kSameHost)
  std::unordered_set<std::string> seen_pages_;
  std::unordered_set<std::string> captured_;
  std::unordered_set<std::string> seen_images_;
  std::unordered_set<std::string> image_hashes_;
  base::Sha256 hasher_;  // one EVP context for every image of the crawl
};

}  // namespace

boost::json::object CrawlReport::ToJson() const {
  boost::json::object out;
  out["pages_captured"] = pages_captured;
  out["pages_duplicate"] = pages_duplicate;
  out["images_downloaded"] = images_downloaded;
  out["images_duplicate"] = images_duplicate;
  out["robots_fetched"] = robots_fetched;
  out["search_results"] = search_results;
  out["bytes_downloaded"] = bytes_downloaded;
  out["elapsed_ms"] = elapsed.count();
  out["stopped"] = stopped;
  out["failures"] = failures.ToJson();
  boost::json::array samples;
  for (const auto& sample : failure_samples)
    samples.push_back(boost::json::object{
        {"url", sample.url}, {"class", FailureClassName(sample.failure)}, {"detail", sample.detail}});
  out["failure_samples"] = std::move(samples);
  return out;
}

Crawler::Crawler(HttpFetcher& fetcher, CrawlSink& sink, CrawlOptions options, SearchProvider* search,
                 RobotsCache* robots)
    : fetcher_(fetcher),
      sink_(sink),
      options_(std::move(options)),
      search_(search),
      own_robots_(robots == nullptr ? std::make_unique<RobotsCache>() : nullptr),
      robots_(robots == nullptr ? *own_robots_ : *robots) {}

Crawler::~Crawler() = default;

base::Result<CrawlReport> Crawler::Run(const CrawlRequest& request, std::stop_token stop,
                                       const CrawlProgress& progress) {
  CrawlRun run(fetcher_, sink_, options_, search_, robots_, request);
  return run.Run(std::move(stop), progress);
}

}  // namespace furrsight::workers
