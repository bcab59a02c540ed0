// EXPORT_DATASET's payload (docs/export.md), parsed once: by the job
// service when the job is requested (a bad payload is refused then, with the
// field named) and by the export worker when it runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "events/store/event.hpp"

namespace furrsight::orchestrator::jobs {

inline constexpr std::string_view kExportFormats[] = {"zip", "tar", "csv", "jsonl", "webdataset", "imagefolder"};
// 7 days: the longest an S3 presigned link (SigV4) may live.
inline constexpr std::int64_t kMaxExportLinkSeconds = 7LL * 24 * 3600;

struct ExportFilters {
  std::vector<std::string> statuses{"VERIFIED"};  // UNVERIFIED, VERIFIED, REJECTED
  std::vector<std::string> breeds;                // display names or slugs; empty: any
  std::vector<std::string> services;              // a pair with any of them; empty: any
  std::optional<std::int64_t> from_us, to_us;     // pair proposed within [from, to)
  std::string project_id;                         // empty: any
};

// Parses payload.filters (docs/export.md); kInvalidArgument naming the field.
base::Result<ExportFilters> ParseFilters(const boost::json::object* filters);
boost::json::object FiltersJson(const ExportFilters& filters);

struct SplitOptions {
  double train = 0.8, validation = 0.1, test = 0.1;  // fractions summing to 1
  std::string seed = "furrsight";
  int near_duplicate_distance = 6;  // the validator's default (docs/vision.md)
};

// Parses payload.splits ({"train":0.8,"validation":0.1,"test":0.1,"seed":"…",
// "near_duplicate_distance":6}); kInvalidArgument naming the field.
base::Result<SplitOptions> ParseSplitOptions(const boost::json::object* splits);
boost::json::object SplitOptionsJson(const SplitOptions& options);

struct ResizeOptions {
  int max_side = 1024;        // the longest side at most this (never enlarged)
  std::string format = "jpeg";  // jpeg | png | webp
  int quality = 90;
};

// Parses payload.resize; kInvalidArgument naming the field.
base::Result<std::optional<ResizeOptions>> ParseResizeOptions(const boost::json::value* resize);

struct ExportPayload {
  std::string format = "zip";
  ExportFilters filters;
  SplitOptions splits;
  std::optional<ResizeOptions> resize;
  std::optional<events::LogPosition> as_of;        // none: the log's head when the attempt starts
  int shard_size = 1000;                           // webdataset: pairs per shard
  std::optional<std::chrono::seconds> expires_in;  // the download link's lifetime; none: the worker's default
  std::string crawl_job_id;                        // PixCrawler's export_jobs row hangs off this crawl job
};

// The whole payload; kInvalidArgument naming the field ("EXPORT_DATASET: ...").
base::Result<ExportPayload> ParseExportPayload(const boost::json::object& payload);

}  // namespace furrsight::orchestrator::jobs
