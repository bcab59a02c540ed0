#include "orchestrator/jobs/job_lifecycle.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace furrsight::orchestrator::jobs {
namespace {

using base::ErrorCode;
using base::Fail;
using Events = std::vector<JobEvent>;

constexpr int kDefaultMaxAttempts = 3;
constexpr std::int64_t kDefaultLeaseMs = 30000;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};

base::Result<void> NotIn(const JobState& s, std::string_view what) {
  return Fail(ErrorCode::kFailedPrecondition,
              fmt::format("cannot {} a job that is {}", what, StatusName(s.status)));
}

// The caller must hold the current lease: same worker, same attempt.
base::Result<void> HoldsLease(const JobState& s, const std::string& worker, int attempt, std::string_view what) {
  if (s.status != JobStatus::kInProgress || s.worker != worker || s.attempt != attempt)
    return Fail(ErrorCode::kConflict,
                fmt::format("cannot {}: worker {} attempt {} no longer holds the job (it is {}, held by '{}' "
                            "attempt {})",
                            what, worker, attempt, StatusName(s.status), s.worker, s.attempt));
  return {};
}

// After attempt `attempt` failed: a retry after the backoff, or the end.
void RetryOrFail(const JobState& s, int attempt, const std::string& error, std::int64_t now_us, double jitter,
                 bool retryable, Events& out) {
  v1::JobFailed failed;
  failed.set_attempt(attempt);
  failed.set_error(error);
  failed.set_retryable(retryable);
  if (s.cancel_requested) {  // cancelled while it ran: no retry, the cancel takes effect now
    out.push_back(failed);
    v1::JobCancelled cancelled;
    cancelled.set_reason("cancelled while running; the attempt ended: " + error);
    out.push_back(cancelled);
    return;
  }
  if (retryable && attempt < s.max_attempts) {
    out.push_back(failed);
    v1::JobRetryScheduled retry;
    retry.set_attempt(attempt);
    retry.set_next_attempt(attempt + 1);
    retry.set_backoff_ms(BackoffMs(attempt, jitter));
    retry.set_not_before_us(now_us + retry.backoff_ms() * 1000);
    retry.set_reason(error);
    out.push_back(retry);
  } else {
    failed.set_final(true);
    out.push_back(failed);
  }
}

base::Result<Events> DecideRequest(const JobState& s, const RequestJob& c) {
  if (s.status != JobStatus::kNone) return Events{};  // the same job requested again: nothing new
  v1::JobRequested r = c.request;
  if (r.job_type().empty()) return Fail(ErrorCode::kInvalidArgument, "a job needs a job_type");
  if (r.max_attempts() < 0 || r.lease_ms() < 0 || r.schedule_to_start_timeout_ms() < 0 ||
      r.start_to_close_timeout_ms() < 0)
    return Fail(ErrorCode::kInvalidArgument, "max_attempts and timeouts must not be negative");
  if (r.max_attempts() == 0) r.set_max_attempts(kDefaultMaxAttempts);
  if (r.lease_ms() == 0) r.set_lease_ms(kDefaultLeaseMs);
  return Events{r};
}

base::Result<Events> DecideClaim(const JobState& s, const ClaimJob& c) {
  if (s.status != JobStatus::kPending && s.status != JobStatus::kWaitingRetry) {
    if (auto r = NotIn(s, "claim"); !r) return std::unexpected(r.error());
  }
  if (s.cancel_requested) return Fail(ErrorCode::kFailedPrecondition, "the job is being cancelled");
  if (c.now_us < s.not_before_us)
    return Fail(ErrorCode::kFailedPrecondition, fmt::format("the job waits until {} us", s.not_before_us));
  v1::JobStarted started;
  started.set_worker(c.worker);
  started.set_attempt(s.next_attempt);
  started.set_lease_ms(s.lease_ms);
  started.set_lease_expires_at_us(c.now_us + s.lease_ms * 1000);
  return Events{started};
}

base::Result<Events> DecideTimeOut(const JobState& s, const TimeOutJob& c) {
  Events out;
  v1::JobTimedOut timed_out;
  timed_out.set_attempt(s.attempt);
  if (s.status == JobStatus::kInProgress) {
    if (c.now_us >= s.lease_expires_at_us) timed_out.set_kind("lease");
    else if (s.start_to_close_timeout_ms > 0 && c.now_us >= s.started_at_us + s.start_to_close_timeout_ms * 1000)
      timed_out.set_kind("start_to_close");
    else return Fail(ErrorCode::kFailedPrecondition, "the job's lease has not lapsed");
    out.push_back(timed_out);
    // A crash counts as an attempt.
    RetryOrFail(s, s.attempt, "timed out: " + timed_out.kind(), c.now_us, c.jitter, true, out);
    return out;
  }
  if (s.status == JobStatus::kPending && s.schedule_to_start_timeout_ms > 0 &&
      c.now_us >= s.requested_at_us + s.schedule_to_start_timeout_ms * 1000) {
    timed_out.set_kind("schedule_to_start");
    out.push_back(timed_out);
    v1::JobFailed failed;
    failed.set_attempt(s.attempt);
    failed.set_error("no worker started the job in time (schedule_to_start timeout)");
    failed.set_final(true);
    out.push_back(failed);
    return out;
  }
  return Fail(ErrorCode::kFailedPrecondition, fmt::format("a {} job has nothing to time out", StatusName(s.status)));
}

base::Result<Events> DecideChildFinished(const JobState& s, const RecordChildFinished& c) {
  if (s.status != JobStatus::kWaitingChildren) return Events{};  // e.g. cancelled meanwhile: nothing to count
  if (std::find(s.children.begin(), s.children.end(), c.child_job_id) == s.children.end())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is not a child of this job", c.child_job_id));
  if (s.finished_children.contains(c.child_job_id)) return Events{};
  if (c.status != "COMPLETED" && c.status != "FAILED" && c.status != "CANCELLED")
    return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' is not a final status", c.status));
  v1::JobChildFinished finished;
  finished.set_child_job_id(c.child_job_id);
  finished.set_status(c.status);
  finished.set_job_type(c.job_type);
  Events out{finished};
  const int completed = s.children_completed + (c.status == "COMPLETED" ? 1 : 0);
  const int failed = s.children_failed + (c.status == "FAILED" ? 1 : 0);
  const int cancelled = s.children_cancelled + (c.status == "CANCELLED" ? 1 : 0);
  if (completed + failed + cancelled < s.children_total) return out;
  if (completed > 0) {
    v1::JobCompleted done;
    done.set_attempt(s.attempt);
    auto& fields = *done.mutable_result()->mutable_fields();
    fields["children"].set_number_value(s.children_total);
    fields["children_completed"].set_number_value(completed);
    fields["children_failed"].set_number_value(failed);
    fields["children_cancelled"].set_number_value(cancelled);
    out.push_back(done);
  } else {
    v1::JobFailed failed_for_good;
    failed_for_good.set_attempt(s.attempt);
    failed_for_good.set_error(fmt::format("none of its {} child jobs completed ({} failed, {} cancelled)",
                                          s.children_total, failed, cancelled));
    failed_for_good.set_final(true);
    out.push_back(failed_for_good);
  }
  return out;
}

base::Result<Events> DecideCancel(const JobState& s, const CancelJob& c) {
  if (IsTerminal(s.status) || s.status == JobStatus::kNone) {
    if (auto r = NotIn(s, "cancel"); !r) return std::unexpected(r.error());
  }
  if (s.cancel_requested) {
    if (s.status == JobStatus::kInProgress) return Events{};  // its worker will acknowledge
    v1::JobCancelled cancelled;  // no worker holds it (any more): the cancel takes effect now
    cancelled.set_reason(c.reason);
    return Events{cancelled};
  }
  v1::JobCancelRequested requested;
  requested.set_reason(c.reason);
  if (s.status == JobStatus::kInProgress) return Events{requested};  // the worker stops and acknowledges
  v1::JobCancelled cancelled;
  cancelled.set_reason(c.reason);
  return Events{requested, cancelled};
}

}  // namespace

std::string_view StatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kNone: return "NONE";
    case JobStatus::kPending: return "PENDING";
    case JobStatus::kInProgress: return "IN_PROGRESS";
    case JobStatus::kWaitingRetry: return "WAITING_RETRY";
    case JobStatus::kWaitingChildren: return "WAITING_CHILDREN";
    case JobStatus::kCompleted: return "COMPLETED";
    case JobStatus::kFailed: return "FAILED";
    case JobStatus::kCancelled: return "CANCELLED";
  }
  return "?";
}

bool IsTerminal(JobStatus status) {
  return status == JobStatus::kCompleted || status == JobStatus::kFailed || status == JobStatus::kCancelled;
}

std::int64_t BackoffMs(int failed_attempt, double jitter, std::int64_t base_ms) {
  const int exponent = std::clamp(failed_attempt - 1, 0, 30);
  const double raw = std::min<double>(static_cast<double>(kMaxBackoffMs), std::ldexp(static_cast<double>(base_ms), exponent));
  return static_cast<std::int64_t>(raw * (0.5 + std::clamp(jitter, 0.0, 1.0) / 2));
}

base::Result<std::vector<JobEvent>> Decide(const JobState& s, const Command& command) {
  return std::visit(
      Overloaded{
          [&](const RequestJob& c) { return DecideRequest(s, c); },
          [&](const ClaimJob& c) { return DecideClaim(s, c); },
          [&](const RenewLease& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "renew the lease"); !r) return std::unexpected(r.error());
            v1::JobLeaseRenewed renewed;
            renewed.set_worker(c.worker);
            renewed.set_attempt(c.attempt);
            renewed.set_lease_expires_at_us(c.now_us + s.lease_ms * 1000);
            return Events{renewed};
          },
          [&](const ReportProgress& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "report progress"); !r) return std::unexpected(r.error());
            v1::JobProgressed p = c.progress;
            p.set_attempt(c.attempt);
            p.set_progress(std::clamp(p.progress(), 0, 100));
            return Events{p};
          },
          [&](const CompleteJob& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "complete"); !r) return std::unexpected(r.error());
            v1::JobCompleted done = c.completion;
            done.set_attempt(c.attempt);
            return Events{done};
          },
          [&](const FailJob& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "fail"); !r) return std::unexpected(r.error());
            Events out;
            RetryOrFail(s, c.attempt, c.error, c.now_us, c.jitter, c.retryable, out);
            return out;
          },
          [&](const ReleaseJob& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "give back"); !r) return std::unexpected(r.error());
            if (s.cancel_requested) {  // given back while being cancelled: it ends here
              v1::JobCancelled cancelled;
              cancelled.set_reason("cancelled while running");
              return Events{cancelled};
            }
            // Given back unfinished (the worker is shutting down): not a failed attempt.
            v1::JobRetryScheduled retry;
            retry.set_attempt(c.attempt);
            retry.set_next_attempt(c.attempt);
            retry.set_not_before_us(c.now_us);
            retry.set_reason(c.reason.empty() ? "given back by " + c.worker : c.reason);
            return Events{retry};
          },
          [&](const TimeOutJob& c) { return DecideTimeOut(s, c); },
          [&](const CancelJob& c) { return DecideCancel(s, c); },
          [&](const AcknowledgeCancel& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "acknowledge the cancel"); !r)
              return std::unexpected(r.error());
            if (!s.cancel_requested) return Fail(ErrorCode::kFailedPrecondition, "no cancel was requested");
            v1::JobCancelled cancelled;
            cancelled.set_reason("cancelled while running");
            return Events{cancelled};
          },
          [&](const RetryJob& c) -> base::Result<Events> {
            if (s.status != JobStatus::kFailed) {
              if (auto r = NotIn(s, "retry"); !r) return std::unexpected(r.error());
            }
            if (s.cancel_requested)
              return Fail(ErrorCode::kFailedPrecondition, "the job was cancelled while it failed; submit it again instead");
            v1::JobRetryScheduled retry;
            retry.set_attempt(s.attempt);
            retry.set_next_attempt(s.attempt + 1);
            retry.set_not_before_us(c.now_us);
            retry.set_reason(c.reason.empty() ? "retried by an operator" : c.reason);
            return Events{retry};
          },
          [&](const AwaitChildren& c) -> base::Result<Events> {
            if (auto r = HoldsLease(s, c.worker, c.attempt, "fan out"); !r) return std::unexpected(r.error());
            if (s.cancel_requested)
              return Fail(ErrorCode::kFailedPrecondition, "the job is being cancelled: acknowledge the cancel instead");
            if (c.child_ids.empty()) return Fail(ErrorCode::kInvalidArgument, "a fan-out needs at least one child");
            v1::JobChildrenPlanned planned;
            for (const auto& id : c.child_ids) planned.add_child_job_ids(id);
            planned.set_total(static_cast<int>(c.child_ids.size()));
            return Events{planned};
          },
          [&](const RecordChildFinished& c) { return DecideChildFinished(s, c); },
      },
      command);
}

JobState Evolve(JobState s, const JobEvent& event, std::int64_t version, std::int64_t recorded_at_us) {
  s.version = version;
  std::visit(Overloaded{
                 [&](const v1::JobRequested& e) {
                   s.status = JobStatus::kPending;
                   s.job_type = e.job_type();
                   s.max_attempts = std::max(1, e.max_attempts());
                   s.lease_ms = e.lease_ms() > 0 ? e.lease_ms() : kDefaultLeaseMs;
                   s.schedule_to_start_timeout_ms = e.schedule_to_start_timeout_ms();
                   s.start_to_close_timeout_ms = e.start_to_close_timeout_ms();
                   s.requested_at_us = recorded_at_us;
                   s.next_attempt = 1;
                   s.parent_job_id = e.parent_job_id();
                 },
                 [&](const v1::JobStarted& e) {
                   s.status = JobStatus::kInProgress;
                   s.attempt = e.attempt();
                   s.next_attempt = e.attempt() + 1;
                   s.worker = e.worker();
                   s.lease_expires_at_us = e.lease_expires_at_us();
                   if (e.lease_ms() > 0) s.lease_ms = e.lease_ms();
                   s.started_at_us = recorded_at_us;
                 },
                 [&](const v1::JobLeaseRenewed& e) { s.lease_expires_at_us = e.lease_expires_at_us(); },
                 [&](const v1::JobProgressed&) {},
                 [&](const v1::JobCompleted&) {
                   s.status = JobStatus::kCompleted;
                   s.worker.clear();
                 },
                 [&](const v1::JobFailed& e) {
                   s.status = e.final() ? JobStatus::kFailed : JobStatus::kWaitingRetry;
                   s.last_error = e.error();
                   s.worker.clear();
                 },
                 [&](const v1::JobTimedOut& e) {
                   s.status = JobStatus::kWaitingRetry;
                   s.last_error = "timed out: " + e.kind();
                   s.worker.clear();
                 },
                 [&](const v1::JobRetryScheduled& e) {
                   s.status = JobStatus::kWaitingRetry;
                   s.not_before_us = e.not_before_us();
                   s.next_attempt = e.next_attempt();
                   s.max_attempts = std::max(s.max_attempts, e.next_attempt());
                   s.worker.clear();
                 },
                 [&](const v1::JobCancelRequested&) { s.cancel_requested = true; },
                 [&](const v1::JobCancelled&) {
                   s.status = JobStatus::kCancelled;
                   s.worker.clear();
                 },
                 [&](const v1::JobChildrenPlanned& e) {
                   s.status = JobStatus::kWaitingChildren;
                   s.children.assign(e.child_job_ids().begin(), e.child_job_ids().end());
                   s.finished_children.clear();
                   s.children_completed = s.children_failed = s.children_cancelled = 0;
                   s.children_total = std::max(e.total(), e.child_job_ids_size());
                   s.worker.clear();
                 },
                 [&](const v1::JobChildFinished& e) {
                   if (!s.finished_children.insert(e.child_job_id()).second) return;
                   if (e.status() == "COMPLETED") ++s.children_completed;
                   else if (e.status() == "FAILED") ++s.children_failed;
                   else ++s.children_cancelled;
                 },
             },
             event);
  return s;
}

std::string_view EventType(const JobEvent& event) {
  return std::visit([](const auto& e) -> std::string_view { return e.GetDescriptor()->name(); }, event);
}

const google::protobuf::Message& Payload(const JobEvent& event) {
  return std::visit([](const auto& e) -> const google::protobuf::Message& { return e; }, event);
}

base::Result<JobEvent> ToJobEvent(const events::RecordedEvent& e) {
  auto as = [&]<class M>() -> base::Result<JobEvent> {
    auto m = events::DecodeAs<M>(e);
    if (!m) return std::unexpected(m.error());
    return JobEvent(std::move(*m));
  };
  if (e.type == "JobRequested") return as.operator()<v1::JobRequested>();
  if (e.type == "JobStarted") return as.operator()<v1::JobStarted>();
  if (e.type == "JobLeaseRenewed") return as.operator()<v1::JobLeaseRenewed>();
  if (e.type == "JobProgressed") return as.operator()<v1::JobProgressed>();
  if (e.type == "JobCompleted") return as.operator()<v1::JobCompleted>();
  if (e.type == "JobFailed") return as.operator()<v1::JobFailed>();
  if (e.type == "JobTimedOut") return as.operator()<v1::JobTimedOut>();
  if (e.type == "JobRetryScheduled") return as.operator()<v1::JobRetryScheduled>();
  if (e.type == "JobCancelRequested") return as.operator()<v1::JobCancelRequested>();
  if (e.type == "JobCancelled") return as.operator()<v1::JobCancelled>();
  if (e.type == "JobChildrenPlanned") return as.operator()<v1::JobChildrenPlanned>();
  if (e.type == "JobChildFinished") return as.operator()<v1::JobChildFinished>();
  return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is not a job lifecycle event", e.type));
}

base::Result<JobState> Replay(const std::vector<events::RecordedEvent>& recorded) {
  JobState s;
  for (const auto& e : recorded) {
    auto event = ToJobEvent(e);
    if (!event) return std::unexpected(event.error());
    s = Evolve(std::move(s), *event, e.stream_version, e.recorded_at_us);
    if (e.type == "JobRequested") {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(e.payload_json, ec);
      if (!ec && v.is_object())
        if (const auto* p = v.as_object().if_contains("payload"); p != nullptr && p->is_object()) s.payload = p->as_object();
    }
  }
  return s;
}

}  // namespace furrsight::orchestrator::jobs
