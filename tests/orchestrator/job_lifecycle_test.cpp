// The job lifecycle's pure functions, exhaustively over the states reachable
// from a request with a bounded set of commands, plus named scenarios.
#include "orchestrator/jobs/job_lifecycle.hpp"

#include <deque>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace furrsight::orchestrator::jobs {
namespace {

constexpr std::int64_t kLeaseMs = 1000;

// Applies `command`; returns the new state, or the error.
base::Result<JobState> Step(const JobState& s, const Command& c, std::int64_t now_us) {
  auto events = Decide(s, c);
  if (!events) return std::unexpected(events.error());
  JobState next = s;
  std::int64_t version = s.version;
  for (const auto& e : *events) next = Evolve(next, e, ++version, now_us);
  return next;
}

// A state's identity without its clock values (the moves are relative to
// them), so the search is finite.
std::string Key(const JobState& s) {
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", StatusName(s.status), s.attempt, s.next_attempt, s.max_attempts,
                     s.worker, s.not_before_us > 0, s.cancel_requested, s.children_total, s.finished_children.size());
}

RequestJob Request(int max_attempts) {
  RequestJob r;
  r.request.set_job_type("SCRAPE_URL");
  r.request.set_max_attempts(max_attempts);
  r.request.set_lease_ms(kLeaseMs);
  r.request.set_schedule_to_start_timeout_ms(60000);
  return r;
}

// A command and the clock it runs at.
struct Move {
  Command command;
  std::int64_t now_us;
  std::string name;
};

std::vector<Move> MovesFrom(const JobState& s) {
  const std::int64_t t = std::max({s.lease_expires_at_us, s.not_before_us, s.requested_at_us}) + 1;
  std::vector<Move> out;
  for (const char* w : {"w1", "w2"}) {
    out.push_back({ClaimJob{w, t}, t, fmt::format("claim {}", w)});
    if (s.not_before_us > 0) out.push_back({ClaimJob{w, s.not_before_us - 1}, s.not_before_us - 1, "claim early"});
    for (int attempt : {s.attempt, s.attempt - 1}) {
      std::string who = fmt::format("{}#{}", w, attempt);
      out.push_back({RenewLease{w, attempt, t}, t, "renew " + who});
      out.push_back({ReportProgress{w, attempt, {}}, t, "progress " + who});
      out.push_back({CompleteJob{w, attempt, {}}, t, "complete " + who});
      out.push_back({FailJob{w, attempt, "boom", true, t, 0.3}, t, "fail retryable " + who});
      out.push_back({FailJob{w, attempt, "bad input", false, t, 0.3}, t, "fail final " + who});
      out.push_back({ReleaseJob{w, attempt, t, ""}, t, "release " + who});
      out.push_back({AcknowledgeCancel{w, attempt}, t, "ack cancel " + who});
      out.push_back({AwaitChildren{w, attempt, {"c1", "c2"}}, t, "fan out " + who});
    }
  }
  out.push_back({RecordChildFinished{"c1", "COMPLETED", "NOOP"}, t, "child c1 completed"});
  out.push_back({RecordChildFinished{"c2", "FAILED", "NOOP"}, t, "child c2 failed"});
  out.push_back({RecordChildFinished{"c2", "COMPLETED", "NOOP"}, t, "child c2 completed"});
  out.push_back({RecordChildFinished{"stranger", "COMPLETED", "NOOP"}, t, "not a child"});
  out.push_back({TimeOutJob{s.lease_expires_at_us - 1, 0.3}, s.lease_expires_at_us - 1, "timeout early"});
  out.push_back({TimeOutJob{t + 60'000'000, 0.3}, t + 60'000'000, "timeout late"});
  out.push_back({CancelJob{"stop"}, t, "cancel"});
  if (s.max_attempts < 4) out.push_back({RetryJob{t, ""}, t, "retry"});
  out.push_back({Request(2), t, "request again"});
  return out;
}

bool IsWorkerCommand(const Command& c) {
  return std::holds_alternative<RenewLease>(c) || std::holds_alternative<ReportProgress>(c) ||
         std::holds_alternative<CompleteJob>(c) || std::holds_alternative<FailJob>(c) ||
         std::holds_alternative<ReleaseJob>(c) || std::holds_alternative<AcknowledgeCancel>(c) ||
         std::holds_alternative<AwaitChildren>(c);
}

std::pair<std::string, int> WorkerOf(const Command& c) {
  return std::visit(
      [](const auto& x) -> std::pair<std::string, int> {
        if constexpr (requires { x.worker; x.attempt; }) return {x.worker, x.attempt};
        else return {"", 0};
      },
      c);
}

TEST(JobLifecycle, EveryReachableStateKeepsTheInvariants) {
  auto first = Step(JobState{}, Request(2), 0);
  ASSERT_TRUE(first.has_value());
  std::deque<JobState> queue = {*first};
  std::set<std::string> seen = {Key(*first)};
  std::set<std::string> statuses;
  int transitions = 0, refusals = 0;
  while (!queue.empty()) {
    JobState s = queue.front();
    queue.pop_front();
    statuses.insert(std::string(StatusName(s.status)));
    for (const Move& m : MovesFrom(s)) {
      auto events = Decide(s, m.command);
      const std::string where = fmt::format("{} from {}", m.name, Key(s));
      if (IsWorkerCommand(m.command)) {
        auto [worker, attempt] = WorkerOf(m.command);
        bool holds = s.status == JobStatus::kInProgress && s.worker == worker && s.attempt == attempt;
        if (!holds) {
          ASSERT_FALSE(events.has_value()) << "a worker without the lease was obeyed: " << where;
          EXPECT_EQ(events.error().code, base::ErrorCode::kConflict) << where;
        }
      }
      if (!events || events->empty()) {
        ++refusals;
        continue;
      }
      ASSERT_NE(s.status, JobStatus::kCompleted) << "a completed job changed: " << where;
      ASSERT_NE(s.status, JobStatus::kCancelled) << "a cancelled job changed: " << where;
      if (s.status == JobStatus::kFailed) {
        ASSERT_TRUE(std::holds_alternative<RetryJob>(m.command)) << "only a retry revives a failed job: " << where;
      }

      JobState next = s;
      std::int64_t version = s.version;
      for (const auto& e : *events) {
        if (const auto* started = std::get_if<v1::JobStarted>(&e)) {
          ASSERT_EQ(started->attempt(), s.next_attempt) << where;
          ASSERT_GE(started->attempt(), s.attempt) << "attempts never go back: " << where;
        }
        if (std::holds_alternative<v1::JobCompleted>(e)) {
          if (s.status == JobStatus::kWaitingChildren) {
            ASSERT_TRUE(std::holds_alternative<RecordChildFinished>(m.command)) << where;
            ASSERT_EQ(static_cast<int>(s.finished_children.size()) + 1, s.children_total)
                << "a fan-out completes with its last child: " << where;
          } else {
            ASSERT_EQ(s.status, JobStatus::kInProgress) << "only a running job completes: " << where;
          }
        }
        if (std::holds_alternative<v1::JobChildFinished>(e)) {
          ASSERT_EQ(s.status, JobStatus::kWaitingChildren) << where;
          ASSERT_FALSE(s.finished_children.contains(std::get<v1::JobChildFinished>(e).child_job_id()))
              << "a child never counts twice: " << where;
        }
        next = Evolve(next, e, ++version, m.now_us);
      }
      ++transitions;
      ASSERT_EQ(next.version, s.version + static_cast<std::int64_t>(events->size()));
      ASSERT_LE(next.attempt, next.max_attempts) << where;
      ASSERT_EQ(next.status == JobStatus::kInProgress, !next.worker.empty()) << where;
      ASSERT_NE(next.status, JobStatus::kNone);
      ASSERT_FALSE(next.cancel_requested && next.status != JobStatus::kInProgress && !IsTerminal(next.status))
          << "a cancel is pending only while a worker holds the job (else nothing would ever end it): " << where;
      if (seen.insert(Key(next)).second) queue.push_back(next);
    }
  }
  std::printf("job lifecycle: %zu states, %d transitions, %d refusals checked\n", seen.size(), transitions, refusals);
  EXPECT_GT(seen.size(), 30u);
  for (const char* status :
       {"PENDING", "IN_PROGRESS", "WAITING_RETRY", "WAITING_CHILDREN", "COMPLETED", "FAILED", "CANCELLED"})
    EXPECT_TRUE(statuses.contains(status)) << status << " was never reached";
}

TEST(JobLifecycle, RetriesWithGrowingBackoffUntilMaxAttemptsThenFailsAndRetryRevives) {
  JobState s = *Step(JobState{}, Request(3), 0);
  std::int64_t now = 0;
  std::int64_t last_backoff = 0;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    now = std::max(now, s.not_before_us);
    s = *Step(s, ClaimJob{"w1", now}, now);
    ASSERT_EQ(s.attempt, attempt);
    auto events = Decide(s, FailJob{"w1", attempt, "http 503", true, now, 0.0});
    ASSERT_TRUE(events.has_value());
    s = *Step(s, FailJob{"w1", attempt, "http 503", true, now, 0.0}, now);
    if (attempt < 3) {
      ASSERT_EQ(s.status, JobStatus::kWaitingRetry);
      auto backoff = std::get<v1::JobRetryScheduled>(events->back()).backoff_ms();
      EXPECT_GT(backoff, last_backoff) << "exponential backoff";
      last_backoff = backoff;
      EXPECT_FALSE(Step(s, ClaimJob{"w1", s.not_before_us - 1}, now).has_value()) << "not before the backoff";
    }
  }
  EXPECT_EQ(s.status, JobStatus::kFailed);
  EXPECT_EQ(s.last_error, "http 503");
  s = *Step(s, RetryJob{now, "fixed the site"}, now);
  EXPECT_EQ(s.status, JobStatus::kWaitingRetry);
  s = *Step(s, ClaimJob{"w2", now}, now);
  EXPECT_EQ(s.attempt, 4);
  s = *Step(s, CompleteJob{"w2", 4, {}}, now);
  EXPECT_EQ(s.status, JobStatus::kCompleted);
}

TEST(JobLifecycle, LapsedLeaseTimesOutCountsAsAnAttemptAndFencesTheOldWorker) {
  JobState s = *Step(JobState{}, Request(2), 0);
  s = *Step(s, ClaimJob{"w1", 10}, 10);
  EXPECT_FALSE(Decide(s, TimeOutJob{s.lease_expires_at_us - 1}).has_value()) << "not before the lease lapses";
  s = *Step(s, TimeOutJob{s.lease_expires_at_us, 0.0}, s.lease_expires_at_us);
  EXPECT_EQ(s.status, JobStatus::kWaitingRetry);
  s = *Step(s, ClaimJob{"w2", s.not_before_us}, s.not_before_us);
  EXPECT_EQ(s.attempt, 2);
  auto late = Decide(s, CompleteJob{"w1", 1, {}});
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, base::ErrorCode::kConflict);
}

TEST(JobLifecycle, CancelWaitsForTheRunningWorkerAndEndsAWaitingJobAtOnce) {
  JobState s = *Step(JobState{}, Request(2), 0);
  JobState waiting = *Step(s, CancelJob{"no longer needed"}, 1);
  EXPECT_EQ(waiting.status, JobStatus::kCancelled);
  s = *Step(s, ClaimJob{"w1", 1}, 1);
  s = *Step(s, CancelJob{"stop"}, 2);
  EXPECT_EQ(s.status, JobStatus::kInProgress);
  EXPECT_TRUE(s.cancel_requested);
  s = *Step(s, AcknowledgeCancel{"w1", 1}, 3);
  EXPECT_EQ(s.status, JobStatus::kCancelled);
}

TEST(JobLifecycle, GivingBackAJobDoesNotUseAnAttempt) {
  JobState s = *Step(JobState{}, Request(1), 0);
  s = *Step(s, ClaimJob{"w1", 1}, 1);
  s = *Step(s, ReleaseJob{"w1", 1, 2, "shutting down"}, 2);
  EXPECT_EQ(s.status, JobStatus::kWaitingRetry);
  s = *Step(s, ClaimJob{"w2", 3}, 3);
  EXPECT_EQ(s.attempt, 1) << "the same attempt, run again";
}

TEST(JobLifecycle, RequestingTheSameJobAgainChangesNothing) {
  JobState s = *Step(JobState{}, Request(2), 0);
  auto again = Decide(s, Request(5));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty());
  EXPECT_FALSE(Decide(JobState{}, RequestJob{}).has_value()) << "a job type is required";
}

TEST(JobLifecycle, BackoffIsBoundedAndJittered) {
  EXPECT_EQ(BackoffMs(1, 1.0), 1000);
  EXPECT_EQ(BackoffMs(1, 0.0), 500);
  EXPECT_EQ(BackoffMs(3, 1.0), 4000);
  EXPECT_EQ(BackoffMs(40, 1.0), kMaxBackoffMs);
}

}  // namespace
}  // namespace furrsight::orchestrator::jobs

namespace furrsight::orchestrator::jobs {
namespace {

TEST(JobLifecycle, AFanOutWaitsForEveryChildAndFailsOnlyWhenNoneCompleted) {
  JobState s = *Step(JobState{}, Request(2), 0);
  s = *Step(s, ClaimJob{"w1", 1}, 1);
  s = *Step(s, AwaitChildren{"w1", 1, {"a", "b", "c"}}, 2);
  EXPECT_EQ(s.status, JobStatus::kWaitingChildren);
  EXPECT_TRUE(s.worker.empty()) << "the worker's attempt is over";
  EXPECT_FALSE(Step(s, CompleteJob{"w1", 1, {}}, 3).has_value()) << "no worker holds a waiting job";
  s = *Step(s, RecordChildFinished{"a", "FAILED", "NOOP"}, 3);
  auto again = Decide(s, RecordChildFinished{"a", "FAILED", "NOOP"});
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty()) << "a replayed child end changes nothing";
  s = *Step(s, RecordChildFinished{"b", "COMPLETED", "NOOP"}, 4);
  EXPECT_EQ(s.status, JobStatus::kWaitingChildren);
  s = *Step(s, RecordChildFinished{"c", "CANCELLED", "NOOP"}, 5);
  EXPECT_EQ(s.status, JobStatus::kCompleted);
  EXPECT_EQ(s.children_completed, 1);
  EXPECT_EQ(s.children_failed, 1);
  EXPECT_EQ(s.children_cancelled, 1);

  JobState all_failed = *Step(JobState{}, Request(2), 0);
  all_failed = *Step(all_failed, ClaimJob{"w1", 1}, 1);
  all_failed = *Step(all_failed, AwaitChildren{"w1", 1, {"a"}}, 2);
  all_failed = *Step(all_failed, RecordChildFinished{"a", "FAILED", "NOOP"}, 3);
  EXPECT_EQ(all_failed.status, JobStatus::kFailed);
  EXPECT_NE(all_failed.last_error.find("none of its 1 child jobs completed"), std::string::npos) << all_failed.last_error;
}

}  // namespace
}  // namespace furrsight::orchestrator::jobs
