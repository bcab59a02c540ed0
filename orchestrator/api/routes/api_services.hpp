// ApiServices: what the REST API's handlers work with, wired once by
// ApiServer (only `main`-level code builds it; handlers get it by reference).
// Everything in it is thread-safe: handlers run on several worker threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "events/base/config.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/api/http/metrics.hpp"
#include "orchestrator/curation/curation_service.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {
class FilesystemBlobStore;
}

namespace furrsight::api {

class Authenticator;
class RebuildRunner;
class ReadCache;

struct ApiServices {
  const base::Config& config;
  events::PgPool& pool;      // reads of the read models (application role)
  events::EventStore& store;
  orchestrator::jobs::JobService& jobs;
  orchestrator::curation::CurationService& curation;
  workers::BlobStore& blobs;
  // The same store when it is a directory (blob_store = file): then the API
  // itself serves presigned /api/v1/blobs/ links. Null for S3.
  const workers::FilesystemBlobStore* file_blobs = nullptr;
  MetricsRegistry& metrics;
  RebuildRunner& rebuilds;
  ReadCache* cache = nullptr;  // null: no cache (api_cache_ttl_ms = 0 or no Redis URL)
  // Open /api/v1/events/live streams: each holds a handler thread, so at most
  // max_live_streams (half the handler threads) may be open at once.
  int max_live_streams = 4;
  std::atomic<int> live_streams{0};
  // An open live stream asks this again, every live_recheck, whether its
  // request's credential still holds (null: never asked again).
  Authenticator* authenticator = nullptr;
  std::chrono::milliseconds live_recheck{15000};
  // A curation command answers once the pair list shows it, or after this
  // long with X-FurrSight-Read-Model: lagging.
  std::chrono::milliseconds read_model_wait{2000};
  // Microseconds since the Unix epoch (a test may pin it).
  std::function<std::int64_t()> now_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
};

}  // namespace furrsight::api
