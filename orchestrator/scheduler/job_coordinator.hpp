// JobCoordinator: the process manager of jobs. It follows the log's final
// job events (JobCompleted, JobFailed final, JobCancelled) and:
//  - fan-out: tells the parent of a finished child (RecordChildFinished); the
//    last child completes the parent (or fails it when none completed);
//  - chaining: starts follow-up jobs (a finished top-level SCRAPE_URL starts
//    PROCESS_IMAGE_PAIR for its crawl) unless the payload says "chain": false;
//  - cancel: a cancelled parent cancels its unfinished children.
// Everything it appends derives its ids from the event that caused it (the
// causation id, the idempotency key "chain/<job>/<TYPE>"), so handling an
// event twice — after a crash, a replay from zero — changes nothing.
// Its checkpoint is a row of process_manager_checkpoints (migration 0004).
// Not thread-safe: one thread.
#pragma once

#include <chrono>
#include <memory>

#include "events/redis/redis_waker.hpp"
#include "events/store/event_store.hpp"
#include "events/store/subscription.hpp"
#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::orchestrator::scheduler {

struct CoordinatorStats {
  std::int64_t events = 0;
  std::int64_t children_recorded = 0;
  std::int64_t follow_ups = 0;
  std::int64_t children_cancelled = 0;
};

class JobCoordinator {
 public:
  static constexpr std::string_view kName = "job_coordinator";

  // `waker` may be null (poll only).
  JobCoordinator(events::EventStore& store, events::RedisWaker* waker, std::chrono::milliseconds poll_interval);

  // Loads the checkpoint (once) and handles the next batch of final job
  // events, waiting up to `max_wait` for one; saves the checkpoint after it.
  base::Result<int> Step(std::chrono::milliseconds max_wait);
  const CoordinatorStats& stats() const { return stats_; }

 private:
  base::Result<void> Handle(const events::RecordedEvent& event);
  base::Result<void> LoadCheckpoint();
  base::Result<void> SaveCheckpoint(std::int64_t handled);

  events::EventStore& store_;
  events::RedisWaker* waker_;
  const std::chrono::milliseconds poll_interval_;
  jobs::JobService service_;
  std::unique_ptr<events::Subscription> subscription_;  // after LoadCheckpoint
  CoordinatorStats stats_;
};

}  // namespace furrsight::orchestrator::scheduler
