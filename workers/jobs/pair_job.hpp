// PairJob: the PROCESS_IMAGE_PAIR handler (a finished crawl starts it; see
// the job coordinator). For the crawl's candidates (PairCandidateFound) and
// images: validates every image involved (ImageChecks), scores each
// candidate with OpenCV (vision::ScorePair: the same dog, not a copy of the
// other), looks in the crawl's remaining images for composites holding both
// halves (stored as derived blobs recording where they came from), and
// proposes the pairs that pass as PairProposed on pair-{id}, where the id
// derives from the two images' hashes — so scraping and pairing again never
// duplicates a pair. Thread-safe (each Run has its own state).
#pragma once

#include "events/store/event_store.hpp"
#include "workers/runtime/job_handler.hpp"
#include "workers/storage/blob_store.hpp"
#include "workers/vision/pair_score.hpp"

namespace furrsight::workers {

class PairJob final : public JobHandler {
 public:
  PairJob(events::EventStore& store, BlobStore& blobs, vision::PairScoreOptions scoring = {})
      : store_(store), blobs_(blobs), scoring_(scoring) {}
  std::string_view job_type() const override { return "PROCESS_IMAGE_PAIR"; }
  JobOutcome Run(JobContext& context) override;

 private:
  events::EventStore& store_;
  BlobStore& blobs_;
  const vision::PairScoreOptions scoring_;
};

// VALIDATE_IMAGES: the validation step alone, over every image a crawl downloaded.
class ValidateJob final : public JobHandler {
 public:
  ValidateJob(events::EventStore& store, BlobStore& blobs) : store_(store), blobs_(blobs) {}
  std::string_view job_type() const override { return "VALIDATE_IMAGES"; }
  JobOutcome Run(JobContext& context) override;

 private:
  events::EventStore& store_;
  BlobStore& blobs_;
};

// The pair-{id} of a before/after pair of images.
std::string PairId(const std::string& before_sha256, const std::string& after_sha256);

}  // namespace furrsight::workers
