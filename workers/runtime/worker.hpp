// Worker: the stateless worker runtime. It claims jobs of the types it has
// handlers for — at most as many as it has free slots — by appending
// JobStarted with the job stream's version as the expected version; runs each
// on a slot thread; renews the lease while the handler works (noticing a
// cancel or a lost lease at each renewal); and records the outcome with the
// expected version, so a worker whose lease was taken away cannot complete
// (ARCHITECTURE.md, invariant 9): its append conflicts and it abandons the work.
//
// Jobs are found through the Redis dispatch queue (fast) and by polling the
// jobs read model (always; the only way while Redis is down). Per-type and
// per-key limits hold across all workers (job_limits.hpp).
//
// Run() blocks until RequestStop(); then the worker claims nothing more,
// lets running jobs finish within the grace period, gives back the rest
// (ReleaseJob: not a failed attempt) and returns. Thread-safe: RequestStop
// may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/store/event_store.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "workers/runtime/job_handler.hpp"
#include "workers/runtime/job_limits.hpp"
#include "workers/runtime/job_sources.hpp"

namespace furrsight::workers {

struct WorkerOptions {
  std::string name;  // unique among workers; default "<host>-<pid>"
  int slots = 4;
  std::chrono::milliseconds poll_interval{250};
  std::chrono::milliseconds grace{10000};
  std::chrono::milliseconds progress_every{250};  // at most one JobProgressed per job per this
};

struct WorkerStats {
  std::atomic<std::uint64_t> claimed{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> fanned_out{0};
  std::atomic<std::uint64_t> cancelled{0};
  std::atomic<std::uint64_t> released{0};
  std::atomic<std::uint64_t> abandoned{0};     // the lease was lost: the outcome was not recorded
  std::atomic<std::uint64_t> claim_misses{0};  // found but taken by another worker first
};

class Worker {
 public:
  // `limits` and `queue` may be null (no limits; poll only). The store, pool
  // and handlers must outlive the worker.
  Worker(WorkerOptions options, events::EventStore& store, std::vector<JobHandler*> handlers, LimitLocks* limits,
         std::unique_ptr<JobQueue> queue);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Run();
  void RequestStop();
  // True when a handler ignored the stop and its thread could not be joined:
  // the caller should exit the process.
  bool stuck() const { return stuck_.load(); }
  const WorkerStats& stats() const { return stats_; }
  const std::string& name() const { return options_.name; }

 private:
  struct Running;
  class Attempt;

  // Claims up to `free` of `candidates` (one read, one append); how many it got.
  int ClaimBatch(const std::vector<std::string>& candidates, int free);
  void ExecutorLoop();
  void RenewLoop();
  void Finish(Running& job, JobOutcome outcome);
  void Renew(Running& job);
  void FlushProgress(Running& job);  // job.mu held
  void Shutdown();
  orchestrator::jobs::CommandContext Context(const std::string& job_id) const;
  std::vector<std::shared_ptr<Running>> Snapshot();

  const WorkerOptions options_;
  events::EventStore& store_;
  orchestrator::jobs::JobService service_;
  std::map<std::string, JobHandler*, std::less<>> handlers_;
  std::vector<std::string> job_types_;
  LimitLocks* limits_;
  std::unique_ptr<JobQueue> queue_;
  WorkerStats stats_;

  std::mutex mu_;
  std::condition_variable changed_;                          // a slot freed, a job is ready, or stopping
  bool stop_requested_ = false;                              // guarded by mu_
  bool executors_exit_ = false;                              // guarded by mu_
  bool renewer_exit_ = false;                                // guarded by mu_
  int active_ = 0;                                           // claimed and not finished; guarded by mu_
  std::uint64_t slots_freed_ = 0;                            // guarded by mu_
  std::deque<std::shared_ptr<Running>> ready_;               // claimed, waiting for a slot thread; guarded by mu_
  std::map<std::string, std::shared_ptr<Running>> running_;  // guarded by mu_
  std::map<std::string, std::chrono::steady_clock::time_point> deferred_;  // held back by a limit (dispatcher only)
  std::atomic<bool> stuck_{false};
  std::vector<std::thread> executors_;
  std::thread renewer_;
};

}  // namespace furrsight::workers
