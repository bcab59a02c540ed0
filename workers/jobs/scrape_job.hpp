// ScrapeJob: the SCRAPE_URL handler. Runs one crawl (workers/scrape/) and
// records what it finds: each page as PageCaptured on page-{sha256 of its URL},
// each new image stored once by content (BlobStore::PutContent) and recorded as
// ImageDownloaded on image-{sha256} (expected: no stream, so an image seen
// before is not recorded again), and at the end the before/after candidates
// of each page (workers/pairing/) as PairCandidateFound with both images'
// hashes. Event ids derive from the job and what they describe, so an attempt
// repeated after a crash records nothing twice (invariant 7). Thread-safe:
// each Run has its own fetcher.
#pragma once

#include <optional>

#include "events/base/config.hpp"
#include "events/store/event_store.hpp"
#include "workers/runtime/job_handler.hpp"
#include "workers/scrape/crawler.hpp"
#include "workers/scrape/curl_fetcher.hpp"
#include "workers/scrape/search_provider.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {

struct ScrapeSettings {
  FetcherOptions fetcher;
  CrawlOptions crawl;
  std::optional<SearxngOptions> search;  // none: query-only crawls fail as "search"

  // From the scrape_* and search_* settings; kInvalidArgument names a bad one.
  static base::Result<ScrapeSettings> FromConfig(const base::Config& config);
};

class ScrapeJob final : public JobHandler {
 public:
  ScrapeJob(ScrapeSettings settings, events::EventStore& store, BlobStore& blobs)
      : settings_(std::move(settings)), store_(store), blobs_(blobs) {}
  std::string_view job_type() const override { return "SCRAPE_URL"; }
  JobOutcome Run(JobContext& context) override;

 private:
  const ScrapeSettings settings_;
  events::EventStore& store_;
  BlobStore& blobs_;
};

// "page-<sha256 of the URL>" / "image-<sha256 of the bytes>".
std::string PageStream(const std::string& url);
std::string ImageStream(const std::string& sha256);

}  // namespace furrsight::workers
