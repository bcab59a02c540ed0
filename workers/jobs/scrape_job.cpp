#include "workers/jobs/scrape_job.hpp"

#include <map>
#include <stop_token>

#include <fmt/format.h>

#include "events/base/sha256.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "workers/jobs/job_payload.hpp"
#include "workers/pairing/pair_candidates.hpp"

namespace furrsight::workers {
namespace {

namespace v1 = ::furrsight::events::v1;
using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kEventIds = "furrsight.scrape";

base::Result<std::int64_t> Number(const base::Config& c, std::string_view key) {
  const std::string& text = c.Get(key);
  try {
    size_t used = 0;
    long long n = std::stoll(text, &used);
    if (used == text.size() && n >= 0) return n;
  } catch (const std::exception&) {
  }
  return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must be a whole number ≥ 0, not '{}'", key, text));
}

// Stores and records what the crawl finds; remembers it for the candidates.
class RecordingSink final : public CrawlSink {
 public:
  RecordingSink(events::EventStore& store, BlobStore& blobs, JobContext& context)
      : store_(store), blobs_(blobs), context_(context) {}

  base::Result<void> OnPageCaptured(const CapturedPage& page) override {
    v1::PageCaptured e;
    e.set_url(page.url.spec());
    e.set_final_url(page.final_url.spec());
    e.set_status(page.status);
    e.set_depth(page.depth);
    e.set_crawl_job_id(context_.job_id());
    for (const auto& link : page.links) e.add_links(link.spec());
    auto& images = pages_[page.final_url.spec()];
    for (const auto& ref : page.images) {
      auto* image = e.add_images();
      image->set_url(ref.url.spec());
      image->set_alt(ref.context.alt);
      image->set_title(ref.context.title);
      image->set_caption(ref.context.caption);
      image->set_nearby_text(ref.context.nearby_text);
      image->set_position(ref.context.position);
      images.push_back({ref.url.spec(), ref.context.alt, ref.context.title, ref.context.caption,
                        ref.context.nearby_text, ref.context.position});
    }
    return Record(PageStream(page.final_url.spec()), e, "page/" + page.final_url.spec(), events::ExpectedVersion::Any());
  }

  base::Result<void> OnImageDownloaded(const DownloadedImage& image) override {
    sha_of_[image.url.spec()] = image.sha256;
    sha_of_[image.final_url.spec()] = image.sha256;
    auto stored = blobs_.PutContent(image.bytes, image.content_type.empty() ? "application/octet-stream"
                                                                             : image.content_type);
    if (!stored) return std::unexpected(stored.error());
    v1::ImageDownloaded e;
    e.set_url(image.final_url.spec());
    e.set_page_url(image.page_url);
    e.set_alt_text(image.context.alt);
    e.set_title(image.context.title);
    e.set_caption(image.context.caption);
    e.set_nearby_text(image.context.nearby_text);
    e.set_position(image.context.position);
    if (image.size) {
      e.set_width(image.size->width);
      e.set_height(image.size->height);
    }
    e.set_file_size(static_cast<std::int64_t>(image.bytes.size()));
    e.set_format(std::string(FormatName(image.format)));
    e.set_content_type(image.content_type);
    e.set_storage_key(stored->key);
    e.set_sha256(image.sha256);
    e.set_crawl_job_id(context_.job_id());
    auto r = Record(ImageStream(image.sha256), e, "image/" + image.sha256, events::ExpectedVersion::NoStream());
    if (!r && r.error().code == ErrorCode::kConflict) {
      ++images_known_;  // found before, by this crawl or another: one image, one stream
      return {};
    }
    if (r) ++images_new_;
    return r;
  }

  // PairCandidateFound for every candidate whose two images were downloaded.
  base::Result<int> RecordCandidates() {
    int n = 0;
    for (const auto& [page_url, images] : pages_) {
      for (const auto& c : pairing::FindCandidates(images)) {
        auto before = sha_of_.find(c.before_url), after = sha_of_.find(c.after_url);
        if (before == sha_of_.end() || after == sha_of_.end() || before->second == after->second) continue;
        v1::PairCandidateFound e;
        e.set_page_url(page_url);
        e.set_before_image(c.before_url);
        e.set_after_image(c.after_url);
        e.set_cue(c.cue);
        e.set_score(c.score);
        e.set_crawl_job_id(context_.job_id());
        e.set_before_sha256(before->second);
        e.set_after_sha256(after->second);
        auto r = Record(PageStream(page_url), e, fmt::format("candidate/{}/{}/{}", page_url, c.before_url, c.after_url),
                        events::ExpectedVersion::Any());
        if (!r) return std::unexpected(r.error());
        ++n;
      }
    }
    return n;
  }

  int images_new() const { return images_new_; }
  int images_known() const { return images_known_; }

 private:
  base::Result<void> Record(const std::string& stream, const google::protobuf::Message& payload,
                            const std::string& what, events::ExpectedVersion expected) {
    auto event = events::MakeEventFromMessage(
        stream, payload, MetadataOf(context_),
        base::UuidFromName(kEventIds, fmt::format("{}/{}", context_.job_id(), what)));
    auto r = store_.Append(stream, expected, std::span(&event, 1));
    if (!r) return std::unexpected(r.error());
    return {};
  }

  events::EventStore& store_;
  BlobStore& blobs_;
  JobContext& context_;
  std::map<std::string, std::vector<pairing::PageImage>> pages_;  // final page URL -> its images
  std::map<std::string, std::string> sha_of_;                     // image URL (as linked and final) -> sha256
  int images_new_ = 0;
  int images_known_ = 0;
};

}  // namespace

std::string PageStream(const std::string& url) { return "page-" + base::Sha256Hex(url); }
std::string ImageStream(const std::string& sha256) { return "image-" + sha256; }

base::Result<ScrapeSettings> ScrapeSettings::FromConfig(const base::Config& c) {
  ScrapeSettings s;
  auto guard = AddressGuard::FromAllowlist(c.Get("scrape_address_allowlist"));
  if (!guard) return std::unexpected(guard.error());
  auto delay = Number(c, "scrape_min_host_delay_ms");
  if (!delay) return std::unexpected(delay.error());
  s.fetcher.user_agent = c.Get("scrape_user_agent");
  s.fetcher.connect_timeout = std::chrono::milliseconds(c.GetInt("scrape_connect_timeout_ms"));
  s.fetcher.total_timeout = std::chrono::milliseconds(c.GetInt("scrape_total_timeout_ms"));
  s.fetcher.max_in_flight = c.GetInt("scrape_max_in_flight");
  s.fetcher.max_per_host = c.GetInt("scrape_max_per_host");
  s.fetcher.min_host_delay = std::chrono::milliseconds(*delay);
  s.fetcher.max_image_bytes = static_cast<std::size_t>(c.GetInt("scrape_max_image_bytes"));
  s.fetcher.guard = std::move(*guard);
  const std::string& resolve = c.Get("scrape_resolve");
  for (size_t start = 0; start < resolve.size();) {
    size_t end = std::min(resolve.find(',', start), resolve.size());
    if (end > start) s.fetcher.resolve.push_back(resolve.substr(start, end - start));
    start = end + 1;
  }
  s.crawl.max_outstanding = static_cast<std::size_t>(s.fetcher.max_in_flight) * 4;
  s.crawl.progress_interval = std::chrono::milliseconds(250);
  if (!c.Get("search_url").empty()) {
    SearxngOptions search;
    search.base_url = c.Get("search_url");
    search.user_agent = s.fetcher.user_agent;
    s.search = search;
  }
  return s;
}

JobOutcome ScrapeJob::Run(JobContext& context) {
  const auto& p = context.payload();
  CrawlRequest request;
  request.urls = Strings(p, "urls");
  request.queries = Strings(p, "queries");
  request.max_depth = static_cast<int>(IntOr(p, "max_depth", request.max_depth));
  request.max_pages = static_cast<int>(IntOr(p, "max_pages", request.max_pages));
  request.max_images = static_cast<int>(IntOr(p, "max_images", request.max_images));

  CurlFetcher fetcher(settings_.fetcher);
  std::optional<SearxngSearchProvider> search;
  if (settings_.search) search.emplace(*settings_.search);
  RecordingSink sink(store_, blobs_, context);
  Crawler crawler(fetcher, sink, settings_.crawl, search ? &*search : nullptr);
  std::stop_source stop;
  auto report = crawler.Run(request, stop.get_token(), [&](const CrawlReport& r) {
    if (context.stopping()) stop.request_stop();
    const int percent = request.max_pages > 0 ? std::min(95, 95 * r.pages_captured / request.max_pages) : 0;
    context.Progress(percent, {{"pages", r.pages_captured},
                               {"images", r.images_downloaded},
                               {"failures", static_cast<std::int64_t>(r.failure_samples.size())}});
  });
  if (context.stopping()) return Stopped{};
  if (!report) return Failed{report.error().message, report.error().code != ErrorCode::kInvalidArgument};
  auto candidates = sink.RecordCandidates();
  if (!candidates) return Failed{candidates.error().message, true};
  Completed done{report->ToJson()};
  done.result["images_new"] = sink.images_new();
  done.result["images_known"] = sink.images_known();
  done.result["pair_candidates"] = *candidates;
  return done;
}

}  // namespace furrsight::workers
