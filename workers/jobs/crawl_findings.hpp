// What one crawl (a SCRAPE_URL job) found, read back from the log: its
// downloaded images and its pair candidates, in log order. The pairing and
// validation jobs start from these (migration 0005 indexes the lookups).
#pragma once

#include <string>
#include <vector>

#include "events/store/event_store.hpp"

namespace furrsight::workers {

struct CrawlImage {
  std::string sha256;
  std::string url;
  std::string page_url;
  std::string derived_from_sha256;  // a half of a composite
  std::int64_t file_size = 0;
};

struct CrawlCandidate {
  std::string page_url;
  std::string before_url, after_url;
  std::string before_sha256, after_sha256;
  std::string cue;
  double score = 0;
};

base::Result<std::vector<CrawlImage>> LoadCrawlImages(events::EventStore& store, const std::string& crawl_job_id);
base::Result<std::vector<CrawlCandidate>> LoadCandidates(events::EventStore& store, const std::string& crawl_job_id);

}  // namespace furrsight::workers
