// Where a worker finds jobs to claim. Both are hints: the claim itself is an
// append with an expected version, so a job found twice, or found after
// someone else took it, costs one read and is skipped.
//
//  - JobQueue: the Redis lists "<prefix>:queue:jobs:<TYPE>" that the job
//    service pushes a job's id on when it becomes claimable; BLMPOP hands each
//    id to one waiting worker, so idle workers start a job within a round trip.
//  - ClaimableJobs: the jobs read model, polled every poll_interval_ms: what
//    the queue missed (Redis down, a worker that popped and died, retries
//    whose backoff has passed).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "events/base/error.hpp"
#include "events/redis/redis_connection.hpp"
#include "events/store/pg_pool.hpp"

namespace furrsight::workers {

// Not thread-safe: one dispatcher thread uses it.
class JobQueue {
 public:
  JobQueue(events::RedisAddress address, std::string prefix, const std::vector<std::string>& job_types);

  // Up to `max` job ids, waiting at most `wait` for the first; empty on
  // timeout. kUnavailable when Redis is down (retried at most once a second).
  base::Result<std::vector<std::string>> Pop(int max, std::chrono::milliseconds wait);

 private:
  const events::RedisAddress address_;
  std::vector<std::string> keys_;
  std::optional<events::RedisConnection> conn_;
  std::chrono::steady_clock::time_point next_connect_{};
};

// Claimable jobs of `job_types` by priority then age, at most `limit`.
base::Result<std::vector<std::string>> ClaimableJobs(events::PgPool& pool, const std::vector<std::string>& job_types,
                                                     int limit);

}  // namespace furrsight::workers
