// The job lifecycle as pure functions (STYLE.md, "Event sourcing, the
// FurrSight way"): Decide(state, command) -> events or an error, and
// Evolve(state, event) -> state. No clock, no randomness, no I/O: the caller
// passes "now" and the retry jitter in the command. Workers (workers/) and
// the scheduler and API (orchestrator/) all go through these functions, and
// append what Decide returns with the stream's version as the expected
// version — that is the fencing of invariant 9.
//
// States (docs/jobs.md):
//   PENDING        requested; claimable once not_before has passed
//   IN_PROGRESS    claimed by a worker holding a lease
//   WAITING_RETRY  an attempt failed or timed out; claimable again at not_before
//   WAITING_CHILDREN  fanned out: no worker holds it; it finishes when its children do
//   COMPLETED      done (terminal)
//   FAILED         failed for good: the dead letter (terminal until a manual retry)
//   CANCELLED      cancelled (terminal)
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "events/catalog/codec.hpp"

namespace furrsight::orchestrator::jobs {

namespace v1 = ::furrsight::events::v1;

enum class JobStatus { kNone, kPending, kInProgress, kWaitingRetry, kWaitingChildren, kCompleted, kFailed, kCancelled };
std::string_view StatusName(JobStatus status);  // "PENDING", ...; "NONE" before the first event
bool IsTerminal(JobStatus status);

struct JobState {
  JobStatus status = JobStatus::kNone;
  std::string job_type;
  std::int64_t version = 0;    // the stream's version: the expected version of the next append
  int attempt = 0;             // the current or last attempt (1-based)
  int next_attempt = 1;        // the attempt number the next claim gets
  int max_attempts = 1;
  std::string worker;          // holder of the lease while IN_PROGRESS
  std::int64_t lease_expires_at_us = 0;
  std::int64_t lease_ms = 30000;
  std::int64_t not_before_us = 0;
  std::int64_t requested_at_us = 0;
  std::int64_t schedule_to_start_timeout_ms = 0;  // 0: none
  std::int64_t start_to_close_timeout_ms = 0;     // 0: none
  std::int64_t started_at_us = 0;
  bool cancel_requested = false;
  std::string last_error;
  std::string parent_job_id;
  boost::json::object payload;  // the request's payload; filled by Replay (Evolve leaves it alone)
  // A fan-out: the children planned, and those finished so far by status.
  std::vector<std::string> children;
  int children_total = 0;
  std::set<std::string> finished_children;
  int children_completed = 0;
  int children_failed = 0;
  int children_cancelled = 0;
};

// --- commands ---
struct RequestJob { v1::JobRequested request; std::int64_t now_us = 0; };
struct ClaimJob { std::string worker; std::int64_t now_us = 0; };
struct RenewLease { std::string worker; int attempt = 0; std::int64_t now_us = 0; };
struct ReportProgress { std::string worker; int attempt = 0; v1::JobProgressed progress; };
struct CompleteJob { std::string worker; int attempt = 0; v1::JobCompleted completion; };
struct FailJob {
  std::string worker;
  int attempt = 0;
  std::string error;
  bool retryable = true;
  std::int64_t now_us = 0;
  double jitter = 0.5;  // in [0, 1): drawn by the caller, so Decide stays pure
};
struct ReleaseJob { std::string worker; int attempt = 0; std::int64_t now_us = 0; std::string reason; };
// The scheduler: a lease that lapsed, or a job no worker started in time.
struct TimeOutJob { std::int64_t now_us = 0; double jitter = 0.5; };
struct CancelJob { std::string reason; };
struct AcknowledgeCancel { std::string worker; int attempt = 0; };
struct RetryJob { std::int64_t now_us = 0; std::string reason; };  // revive a FAILED job
// The worker's attempt ends by fanning out: the job waits for `child_ids`
// (requested in the same append) instead of completing.
struct AwaitChildren { std::string worker; int attempt = 0; std::vector<std::string> child_ids; };
// The job coordinator: a child reached a final status. The last one
// completes the parent (or fails it, when no child completed).
struct RecordChildFinished { std::string child_job_id; std::string status; std::string job_type; };

using Command = std::variant<RequestJob, ClaimJob, RenewLease, ReportProgress, CompleteJob, FailJob, ReleaseJob,
                             TimeOutJob, CancelJob, AcknowledgeCancel, RetryJob, AwaitChildren, RecordChildFinished>;

using JobEvent = std::variant<v1::JobRequested, v1::JobStarted, v1::JobLeaseRenewed, v1::JobProgressed,
                              v1::JobCompleted, v1::JobFailed, v1::JobTimedOut, v1::JobRetryScheduled,
                              v1::JobCancelRequested, v1::JobCancelled, v1::JobChildrenPlanned, v1::JobChildFinished>;

// Retry policy: exponential backoff with jitter.
//   backoff = min(max, base * 2^(attempt-1)) * (0.5 + jitter / 2)
inline constexpr std::int64_t kBaseBackoffMs = 1000;
inline constexpr std::int64_t kMaxBackoffMs = 5 * 60 * 1000;
std::int64_t BackoffMs(int failed_attempt, double jitter, std::int64_t base_ms = kBaseBackoffMs);

// The events that carry out `command` (none: nothing to do, e.g. a repeated
// request), or why it is refused: kFailedPrecondition (not in this state),
// kConflict (the caller's lease is gone), kInvalidArgument.
base::Result<std::vector<JobEvent>> Decide(const JobState& state, const Command& command);

// The state after `event`; `version` is its stream version, `recorded_at_us` when it was recorded.
JobState Evolve(JobState state, const JobEvent& event, std::int64_t version, std::int64_t recorded_at_us);

// The state of a job stream from its recorded events.
base::Result<JobState> Replay(const std::vector<events::RecordedEvent>& events);
// A recorded event as a JobEvent (kInvalidArgument for other types).
base::Result<JobEvent> ToJobEvent(const events::RecordedEvent& event);
std::string_view EventType(const JobEvent& event);
const google::protobuf::Message& Payload(const JobEvent& event);

}  // namespace furrsight::orchestrator::jobs
