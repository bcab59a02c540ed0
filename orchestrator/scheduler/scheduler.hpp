// Scheduler: turns deadlines into events. Each Sweep() finds, in the jobs
// read model, running jobs whose lease lapsed or whose attempt ran past its
// start-to-close timeout, and pending jobs no worker started within their
// schedule-to-start timeout, and sends each a TimeOutJob command. The
// lifecycle (job_lifecycle.hpp) decides from the job's own events: a lease
// renewed since the read model was written is refused there, so a lagging
// read model costs a read, never a wrong timeout. A timed-out attempt counts
// as an attempt: the retry policy schedules the next (backoff with jitter)
// or fails the job for good.
//
// Run one active instance (LeaderLock); a second one would only cause
// refused commands. Not thread-safe: one thread.
#pragma once

#include <cstdint>

#include "events/store/event_store.hpp"
#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::orchestrator::scheduler {

struct SweepStats {
  int found = 0;      // candidates in the read model
  int timed_out = 0;  // TimeOutJob appended
  int skipped = 0;    // refused (renewed meanwhile, already handled)
};

class Scheduler {
 public:
  explicit Scheduler(events::EventStore& store) : store_(store), service_(store) {}
  base::Result<SweepStats> Sweep();

 private:
  events::EventStore& store_;
  jobs::JobService service_;
};

}  // namespace furrsight::orchestrator::scheduler
