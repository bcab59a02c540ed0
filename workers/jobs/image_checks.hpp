// ImageChecks: the validation step shared by VALIDATE_IMAGES and
// PROCESS_IMAGE_PAIR. Each image gets one verdict, in its own stream
// (ImageValidated or ImageRejected after its ImageDownloaded, appended with
// the stream's version): a verdict already there is reused, so checking a
// crawl again — or a second crawl finding the same image — judges nothing
// twice. Near duplicates are judged against the images checked before in the
// same run (and their recorded pHashes). Also decodes images for the pairing
// step, with a small cache. Not thread-safe: one job's attempt.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "events/store/event_store.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "workers/storage/blob_store.hpp"
#include "workers/vision/image_validator.hpp"
#include "workers/vision/validation_rules.hpp"

namespace furrsight::workers {

struct CheckCounts {
  int validated = 0;  // new ImageValidated
  int rejected = 0;   // new ImageRejected
  int reused = 0;     // a verdict was already recorded
  std::map<std::string, int> rejected_by_rule;
};

class ImageChecks {
 public:
  ImageChecks(events::EventStore& store, BlobStore& blobs, vision::ValidationRules rules,
              orchestrator::jobs::CommandContext context)
      : store_(store), blobs_(blobs), rules_(std::move(rules)), context_(std::move(context)) {}

  // Verdicts for `shas`, in order; `progress(done)` after each batch.
  base::Result<void> Check(const std::vector<std::string>& shas, const std::function<void(size_t)>& progress = {});
  bool Valid(const std::string& sha256) const;
  const CheckCounts& counts() const { return counts_; }

  // The image's pixels (BGR), decoded once and cached for a while.
  base::Result<cv::Mat> Pixels(const std::string& sha256);
  // Its bytes, from the blob store.
  base::Result<std::string> Bytes(const std::string& sha256);

 private:
  events::EventStore& store_;
  BlobStore& blobs_;
  const vision::ValidationRules rules_;
  const orchestrator::jobs::CommandContext context_;
  vision::SeenImages seen_;
  std::map<std::string, bool> valid_;             // sha256 -> passed
  std::map<std::string, std::string> keys_;       // sha256 -> storage key
  std::map<std::string, cv::Mat> decoded_;        // a few decoded images
  std::deque<std::string> decoded_order_;
  CheckCounts counts_;
};

}  // namespace furrsight::workers
