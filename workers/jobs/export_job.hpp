// ExportJob: the EXPORT_DATASET handler (docs/export.md). Reads the dataset
// as of a log position (the payload's `as_of`, else the head when the attempt
// starts), assigns splits, writes the chosen format to a scratch file with
// progress, uploads it to blob storage under exports/<job id>/, and completes
// with a presigned download URL that expires at `expires_at`.
//
// Payload: {format, filters: {status, breeds, services, from, to, project_id},
// splits: {train, validation, test, seed, near_duplicate_distance}, as_of,
// resize: {max_side, format, quality}, shard_size, expires_in_seconds,
// crawl_job_id (PixCrawler's export_jobs row), name}.
#pragma once

#include <filesystem>

#include "events/store/event_store.hpp"
#include "workers/runtime/job_handler.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {

struct ExportJobSettings {
  std::filesystem::path scratch_dir;  // where archives are written before the upload; empty: the system temp dir
  std::chrono::seconds default_link_lifetime{7 * 24 * 3600};
};

class ExportJob final : public JobHandler {
 public:
  ExportJob(events::EventStore& store, BlobStore& blobs, ExportJobSettings settings = {})
      : store_(store), blobs_(blobs), settings_(std::move(settings)) {}
  std::string_view job_type() const override { return "EXPORT_DATASET"; }
  JobOutcome Run(JobContext& context) override;

 private:
  events::EventStore& store_;
  BlobStore& blobs_;
  const ExportJobSettings settings_;
};

}  // namespace furrsight::workers
