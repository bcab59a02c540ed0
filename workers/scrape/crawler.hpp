// Crawler: one SCRAPE_URL crawl. Starts from seed URLs and/or search queries,
// walks pages breadth-first up to max_depth / max_pages, downloads the images
// they show up to max_images, and hands every captured page and downloaded
// image to a CrawlSink (which stores blobs and appends PageCaptured /
// ImageDownloaded events; see docs/scraping.md).
//   - URLs are normalised (Url) and each page and image URL is fetched at most
//     once per crawl; a page reached twice through redirects is captured once;
//     an image whose bytes were already delivered is counted as a duplicate.
//   - robots.txt is fetched once per origin (RobotsCache, shareable between
//     crawls) before any other request to it, for every URL and every redirect
//     hop; its crawl-delay lengthens the host's delay (capped).
//   - noimageai/noai on a page (meta or X-Robots-Tag) skips its images;
//     nofollow skips its links; on an image's X-Robots-Tag it skips the image.
//   - Pages are followed only on the hosts of the seeds and search results
//     (and where those redirected), unless CrawlScope::kAnyHost; images are
//     fetched from any host.
//   - Every failure is counted by FailureClass; the first few are kept as
//     samples (URL, class, detail).
// Thread-compatible: one Run at a time (it drives the fetcher on the calling
// thread). The fetcher, sink, search provider and robots cache are borrowed
// and must outlive the Crawler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "workers/scrape/content_sniff.hpp"
#include "workers/scrape/failure.hpp"
#include "workers/scrape/fetcher.hpp"
#include "workers/scrape/html_extract.hpp"
#include "workers/scrape/robots_cache.hpp"
#include "workers/scrape/search_provider.hpp"

namespace furrsight::workers {

// What to crawl: a SCRAPE_URL job's payload.
struct CrawlRequest {
  std::vector<std::string> urls;     // seed pages (depth 0)
  std::vector<std::string> queries;  // search queries (need a SearchProvider)
  int max_depth = 2;                 // link distance from a seed; 0: the seeds only
  int max_pages = 100;               // pages captured
  int max_images = 500;              // images downloaded (duplicates not counted)
};

enum class CrawlScope { kSameHost, kAnyHost };

// How to crawl: the worker's settings.
struct CrawlOptions {
  std::string product_token = "FurrSightBot";  // robots.txt groups and scoped directives
  CrawlScope scope = CrawlScope::kSameHost;
  int max_redirects = 5;                      // per URL, across hand-overs
  std::size_t max_outstanding = 64;           // fetches submitted and not finished
  std::chrono::milliseconds max_crawl_delay{30'000};
  std::chrono::milliseconds max_duration{0};  // 0: no limit
  std::chrono::milliseconds progress_interval{1'000};
  std::size_t max_failure_samples = 20;
  ExtractOptions extract;
};

struct CapturedPage {
  Url url;        // as first requested
  Url final_url;  // after redirects
  int status = 0;
  int depth = 0;
  std::string content_type;
  std::string title;
  std::vector<Url> links;        // every link on the page, followed or not
  std::vector<ImageRef> images;  // every image on the page, with its context
  RobotsDirectives robots;       // <meta> and X-Robots-Tag together
  std::string_view html;         // valid during the call only
};

struct DownloadedImage {
  Url url;                // as first requested
  Url final_url;          // after redirects
  std::string page_url;   // the page it was found on (final URL); the search result's page for kSearchResult
  ImageSource source = ImageSource::kImg;
  ImageContext context;
  std::string_view bytes;  // valid during the call only
  ContentFormat format = ContentFormat::kUnknown;  // sniffed
  std::string content_type;                        // as served
  std::optional<ImageSize> size;                   // from the header bytes
  std::string sha256;                              // lower-case hex of the bytes
};

// Where a crawl's findings go. An error stops the crawl and Run returns it.
class CrawlSink {
 public:
  virtual ~CrawlSink() = default;
  virtual base::Result<void> OnPageCaptured(const CapturedPage& page) = 0;
  virtual base::Result<void> OnImageDownloaded(const DownloadedImage& image) = 0;
};

struct FailureSample {
  std::string url;
  FailureClass failure = FailureClass::kOther;
  std::string detail;
};

struct CrawlReport {
  int pages_captured = 0;
  int pages_duplicate = 0;   // reached again through a redirect
  int images_downloaded = 0;
  int images_duplicate = 0;  // same bytes as an image already delivered, or redirected to an image URL seen before
  int robots_fetched = 0;
  int search_results = 0;
  std::int64_t bytes_downloaded = 0;
  FailureCounts failures;
  std::vector<FailureSample> failure_samples;
  std::string stopped;  // "", "cancelled" or "deadline"
  std::chrono::milliseconds elapsed{0};

  // {"pages_captured":..,"images_downloaded":..,...,"failures":{"dns":0,...},"failure_samples":[...]}
  boost::json::object ToJson() const;
};

using CrawlProgress = std::function<void(const CrawlReport&)>;

class Crawler {
 public:
  // `search` may be null (queries then count as search failures); `robots`
  // may be null (the crawler keeps its own cache).
  Crawler(HttpFetcher& fetcher, CrawlSink& sink, CrawlOptions options = {}, SearchProvider* search = nullptr,
          RobotsCache* robots = nullptr);
  ~Crawler();

  // Crawls until the request is done, its limits are reached, `stop` is
  // requested ("cancelled") or max_duration passes ("deadline"). Errors:
  // kInvalidArgument when the request has neither URLs nor queries; the
  // search provider's error when every query failed and there is nothing else
  // to crawl; the sink's error.
  base::Result<CrawlReport> Run(const CrawlRequest& request, std::stop_token stop = {},
                                const CrawlProgress& progress = {});

 private:
  HttpFetcher& fetcher_;
  CrawlSink& sink_;
  CrawlOptions options_;
  SearchProvider* search_;
  std::unique_ptr<RobotsCache> own_robots_;
  RobotsCache& robots_;
};

}  // namespace furrsight::workers
