// JobHandler: one job type's work, run by the worker runtime (worker.hpp)
// for one attempt at a time. The runtime claims the job, renews its lease,
// and turns the handler's outcome into the job's next event; the handler
// only does the work, reports progress, and stops when asked.
//
// A handler must be idempotent (ARCHITECTURE.md, invariant 7): an attempt may
// run again after a crash, so whatever it appends uses deterministic ids.
// Handlers are shared by the worker's slot threads: Run must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::workers {

// Why a running attempt must stop before it is done.
enum class StopReason {
  kNone,
  kCancelled,  // someone cancelled the job: the runtime records it cancelled
  kLeaseLost,  // the job was timed out and may run elsewhere: nothing is recorded
  kShutdown,   // the worker is stopping: the runtime gives the job back
};
std::string_view StopReasonName(StopReason reason);

// What an attempt ended in.
struct Completed {
  boost::json::object result;
};
struct FannedOut {  // the job waits for these children (ids derived from the parent)
  std::vector<orchestrator::jobs::SubmitOptions> children;
};
struct Failed {
  std::string error;      // what went wrong and, where it helps, what to do about it
  bool retryable = true;  // false: retrying cannot help (bad input)
};
struct Stopped {};  // returned once the context says to stop
using JobOutcome = std::variant<Completed, FannedOut, Failed, Stopped>;

// The running attempt, as its handler sees it.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const std::string& job_id() const = 0;
  virtual const std::string& job_type() const = 0;
  virtual int attempt() const = 0;
  virtual const boost::json::object& payload() const = 0;
  // Who is acting, for events the handler appends itself (actor "worker:<name>").
  virtual const orchestrator::jobs::CommandContext& command_context() const = 0;

  virtual StopReason stop_reason() const = 0;
  bool stopping() const { return stop_reason() != StopReason::kNone; }
  // Sleeps up to `duration`; false when it returned early because the attempt must stop.
  virtual bool SleepFor(std::chrono::milliseconds duration) = 0;
  // Records progress (percent 0-100, counters); throttled by the runtime, so
  // calling it often is cheap. Never fails the job.
  virtual void Progress(int percent, std::map<std::string, std::int64_t> counters = {}, std::string message = {}) = 0;
};

class JobHandler {
 public:
  virtual ~JobHandler() = default;
  virtual std::string_view job_type() const = 0;
  virtual JobOutcome Run(JobContext& context) = 0;
  // The key of the per-key concurrency limit (job_limits "TYPE/key=N").
  virtual std::string ConcurrencyKey(const boost::json::object& payload) const;
};

}  // namespace furrsight::workers
