// The worker runtime, the scheduler and the job coordinator as real
// processes (furrsight-worker, furrsight scheduler, furrsight projections
// run) against the real PostgreSQL and Redis of the test harness. Every
// check reads the job streams themselves: the log is the truth.
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "events/redis/redis_notifier.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "tests/support/process_fixture.hpp"

namespace furrsight::workers {
namespace {

using namespace std::chrono_literals;
namespace jobs = orchestrator::jobs;
using orchestrator::ChildProcess;
using testing::NowUs;
using Clock = std::chrono::steady_clock;

class WorkerTest : public testing::ProcessTest {
 protected:
  std::string Label() const override { return "workers"; }

  std::string Submit(boost::json::object payload, std::int64_t lease_ms = 0, int max_attempts = 0) {
    return SubmitJob({.job_type = "NOOP", .payload = std::move(payload), .max_attempts = max_attempts,
                      .lease_ms = lease_ms});
  }
};

TEST_F(WorkerTest, TwoThousandNoopJobsOverFourWorkerProcessesCompleteExactlyOnce) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();  // would time out any job whose lease lapsed
  std::vector<ChildProcess> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(StartWorker(fmt::format("w{}", i), 4));
  constexpr int kJobs = 2000;
  const auto start = Clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(Submit({{"result", {{"n", i}}}}));
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobCompleted") >= kJobs; }, 120s))
      << CountType("JobCompleted") << " of " << kJobs << " completed";
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::this_thread::sleep_for(500ms);  // anything late would show now

  // Exactly once, from the log: one JobCompleted per job stream, and nothing failed.
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT stream_id FROM events WHERE event_type = 'JobCompleted' "
                  "GROUP BY stream_id HAVING count(*) = 1) s"),
            kJobs);
  EXPECT_EQ(CountType("JobCompleted"), kJobs);
  EXPECT_EQ(CountType("JobFailed") + CountType("JobTimedOut"), 0);
  std::map<std::string, int> by_worker;
  for (const auto& id : ids) {
    jobs::JobState s = State(id);
    ASSERT_EQ(s.status, jobs::JobStatus::kCompleted) << id;
    ++by_worker[History(id).back().actor];
  }
  std::string spread;
  for (const auto& [w, n] : by_worker) spread += fmt::format(" {}={}", w, n);
  std::printf("2000 no-op jobs over 4 workers: %.2f s (%.0f jobs/s, submitting included);%s\n", seconds,
              kJobs / seconds, spread.c_str());
  EXPECT_EQ(by_worker.size(), 4u) << "every worker took a share:" << spread;
  for (auto& w : workers) EXPECT_EQ(w.Stop(SIGTERM, 10s), 0);
}

TEST_F(WorkerTest, JobsOfAKilledWorkerTimeOutAndAnotherWorkerCompletesThem) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();
  auto doomed = StartWorker("doomed", 4);
  std::vector<std::string> ids;
  // A lease long enough that a loaded machine never lets it lapse while
  // the worker lives: the only timeout here is the one the kill causes.
  for (int i = 0; i < 4; ++i) ids.push_back(Submit({{"sleep_ms", 60000}, {"sleep_attempts", 1}}, 4000));
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobStarted") >= 4; }, 30s));
  doomed.Signal(SIGKILL);
  doomed.Wait();
  auto rescuer = StartWorker("rescuer", 4);
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobCompleted") >= 4; }, 90s)) << LogOf("scheduler");
  for (const auto& id : ids) {
    auto h = History(id);
    std::vector<std::string> types;
    for (const auto& r : h) types.push_back(r.type);
    EXPECT_EQ(fmt::format("{}", fmt::join(types, ",")),
              "JobRequested,JobStarted,JobTimedOut,JobFailed,JobRetryScheduled,JobStarted,JobCompleted")
        << id;
    ASSERT_EQ(h.size(), 7u);
    EXPECT_EQ(h[1].actor, "worker:doomed");
    EXPECT_EQ(h[2].actor, "system:scheduler");
    EXPECT_EQ(std::string(h[2].payload.at("kind").as_string()), "lease");
    EXPECT_EQ(h[5].actor, "worker:rescuer");
    EXPECT_EQ(h[6].payload.at("result").as_object().at("attempt").to_number<double>(), 2) << "a crash counts as an attempt";
  }
}

TEST_F(WorkerTest, TheSchedulerEnforcesScheduleToStartAndStartToCloseTimeouts) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();
  auto worker = StartWorker("w", 1);
  auto submit = [&](std::string type, boost::json::object payload, std::int64_t to_start, std::int64_t to_close) {
    jobs::SubmitOptions o{.job_type = std::move(type), .payload = std::move(payload), .max_attempts = 1, .lease_ms = 5000,
                          .schedule_to_start_timeout_ms = to_start, .start_to_close_timeout_ms = to_close};
    std::string c = base::NewUuid();
    return service_->Submit(o, {"test:submitter", c, c, "test", NowUs()})->job_id;
  };
  // No worker runs GENERATE_QUERIES here: it is never started.
  const std::string unstarted = submit("GENERATE_QUERIES", {{"topic", "poodle grooming"}}, 300, 0);
  // Renews its lease faithfully, but runs past its start-to-close timeout.
  const std::string overrunning = submit("NOOP", {{"sleep_ms", 60000}}, 0, 500);
  ASSERT_TRUE(WaitUntil([&] { return State(unstarted).status == jobs::JobStatus::kFailed &&
                                     State(overrunning).status == jobs::JobStatus::kFailed; }, 60s))
      << LogOf("scheduler");
  EXPECT_EQ(State(unstarted).last_error, "no worker started the job in time (schedule_to_start timeout)");
  EXPECT_EQ(State(overrunning).last_error, "timed out: start_to_close");
  ASSERT_TRUE(WaitUntil([&] { return LogOf("worker-w").find("lease lost") != std::string::npos; }, 30s))
      << "the worker stops the attempt at its next renewal";
}

TEST_F(WorkerTest, AWorkerStoppedPastItsLeaseCannotCompleteLate) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();
  auto frozen = StartWorker("frozen", 1);
  // It sleeps past its 2 s lease; the SIGSTOP comes long before the sleep ends.
  const std::string id = Submit({{"sleep_ms", 5000}, {"sleep_attempts", 1}}, 2000);
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kInProgress; }, 30s));
  frozen.Signal(SIGSTOP);
  auto other = StartWorker("other", 1);
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kCompleted; }, 60s));
  const auto completed = History(id);
  frozen.Signal(SIGCONT);  // its sleep is over: it tries to finish, or its renewal finds the lease gone
  ASSERT_TRUE(WaitUntil([&] { return LogOf("worker-frozen").find("lease lost") != std::string::npos; }, 30s))
      << LogOf("worker-frozen");
  std::this_thread::sleep_for(500ms);
  const auto after = History(id);
  EXPECT_EQ(after.size(), completed.size()) << "the late worker appended nothing";
  EXPECT_EQ(after.back().type, "JobCompleted");
  EXPECT_EQ(std::string(after.back().payload.at("result").as_object().at("worker").as_string()), "worker:other");
  EXPECT_EQ(frozen.Stop(SIGTERM, 10s), 0);
}

TEST_F(WorkerTest, RetriesBackOffUntilMaxAttemptsThenFailedAndRetryRevives) {
  auto projector = StartProjector();
  auto worker = StartWorker("w", 2);
  const std::string id = Submit({{"fail_attempts", 3}}, 0, 3);
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kFailed; }, 30s));
  std::vector<std::int64_t> backoffs;
  for (const auto& r : History(id))
    if (r.type == "JobRetryScheduled") backoffs.push_back(std::stoll(std::string(r.payload.at("backoff_ms").as_string())));  // int64 as JSON text
  ASSERT_EQ(backoffs.size(), 2u);
  EXPECT_GE(backoffs[0], 500);
  EXPECT_GE(backoffs[1], backoffs[0]) << "backoff grows";
  EXPECT_EQ(State(id).last_error, "NOOP asked to fail attempt 3 (payload.fail_attempts)");
  std::string cmd = base::NewUuid();
  ASSERT_TRUE(service_->Execute(id, jobs::RetryJob{NowUs(), "operator"}, {"cli:test", cmd, cmd, "cli", NowUs()}));
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kCompleted; }, 30s));
  EXPECT_EQ(State(id).attempt, 4);
}

TEST_F(WorkerTest, CancellingARunningJobStopsItWithinOneLeaseRenewal) {
  auto projector = StartProjector();
  auto worker = StartWorker("w", 1);
  const std::string id = Submit({{"sleep_ms", 60000}}, 1500);
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kInProgress; }, 30s));
  std::string cmd = base::NewUuid();
  const auto asked = Clock::now();
  ASSERT_TRUE(service_->Execute(id, jobs::CancelJob{"not needed"}, {"cli:test", cmd, cmd, "cli", NowUs()}));
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kCancelled; }, 30s));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - asked).count();
  std::printf("cancel noticed and recorded after %.0f ms (lease 1500 ms, renewal every 500 ms)\n", ms);
  EXPECT_EQ(History(id).back().actor, "worker:w");
  EXPECT_EQ(worker.Stop(SIGTERM, 10s), 0);
}

TEST_F(WorkerTest, ACancelRequestedBeforeItsWorkerDiedEndsTheJobCancelled) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();
  auto doomed = StartWorker("doomed", 1, {"--worker-grace-ms", "60000"});
  const std::string id = Submit({{"sleep_ms", 60000}}, 60000);  // renewals every 20 s: the cancel is not seen
  ASSERT_TRUE(WaitUntil([&] { return State(id).status == jobs::JobStatus::kInProgress; }, 30s));
  std::string cmd = base::NewUuid();
  ASSERT_TRUE(service_->Execute(id, jobs::CancelJob{"not needed"}, {"cli:test", cmd, cmd, "cli", NowUs()}));
  doomed.Signal(SIGKILL);
  doomed.Wait();
  // Nobody will acknowledge: cancelling again ends it at once (the lease has not even lapsed).
  cmd = base::NewUuid();
  auto again = service_->Execute(id, jobs::CancelJob{"still not needed"}, {"cli:test", cmd, cmd, "cli", NowUs()});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status, jobs::JobStatus::kInProgress) << "its worker still holds the lease on paper";
  // The scheduler times the lapsed lease out: the pending cancel takes effect instead of a retry.
  const std::string short_lease = Submit({{"sleep_ms", 60000}}, 1000);
  auto other = StartWorker("other", 1);
  ASSERT_TRUE(WaitUntil([&] { return State(short_lease).status == jobs::JobStatus::kInProgress; }, 30s));
  other.Signal(SIGSTOP);  // frozen first, so it cannot see the cancel at a renewal and end the job itself
  cmd = base::NewUuid();
  ASSERT_TRUE(service_->Execute(short_lease, jobs::CancelJob{"stop"}, {"cli:test", cmd, cmd, "cli", NowUs()}));
  other.Signal(SIGKILL);
  other.Wait();
  ASSERT_TRUE(WaitUntil([&] { return State(short_lease).status == jobs::JobStatus::kCancelled; }, 30s))
      << jobs::StatusName(State(short_lease).status) << LogOf("scheduler");
  EXPECT_EQ(History(short_lease).back().actor, "system:scheduler");
}

TEST_F(WorkerTest, APerKeyLimitOfTwoHoldsAcrossFourWorkers) {
  auto projector = StartProjector();
  std::vector<ChildProcess> workers;
  for (int i = 0; i < 4; ++i)
    workers.push_back(StartWorker(fmt::format("w{}", i), 4, {"--job-limits", "NOOP/key=2,NOOP=3"}));
  std::map<std::string, std::string> key_of;
  for (int i = 0; i < 24; ++i) {
    std::string key = i % 3 == 0 ? "other.test" : "groomers.test";
    key_of[Submit({{"sleep_ms", 150}, {"concurrency_key", key}})] = key;
  }
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobCompleted") >= 24; }, 90s));
  // In flight = between JobStarted and JobCompleted, as the log recorded them.
  std::vector<std::tuple<std::int64_t, int, std::string>> edges;
  for (const auto& [id, key] : key_of) {
    auto stream = store_->ReadStream(jobs::JobStream(id));
    ASSERT_TRUE(stream.has_value());
    for (const auto& e : *stream) {
      if (e.type == "JobStarted") edges.emplace_back(e.recorded_at_us, +1, key);
      if (e.type == "JobCompleted") edges.emplace_back(e.recorded_at_us, -1, key);
    }
  }
  std::sort(edges.begin(), edges.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) < std::get<0>(b) : std::get<1>(a) < std::get<1>(b);
  });
  std::map<std::string, int> now, most;
  int total = 0, most_total = 0;
  for (const auto& [t, d, key] : edges) {
    most[key] = std::max(most[key], now[key] += d);
    most_total = std::max(most_total, total += d);
  }
  std::printf("max in flight: groomers.test %d, other.test %d, all NOOP %d\n", most["groomers.test"],
              most["other.test"], most_total);
  EXPECT_EQ(most["groomers.test"], 2) << "the limit per key is reached, never exceeded";
  EXPECT_LE(most["other.test"], 2);
  EXPECT_EQ(most_total, 3) << "the limit per type is reached, never exceeded (and no slot leaks)";
}

TEST_F(WorkerTest, AFannedOutJobFinishesWhenItsChildrenDoAndReplayingChangesNothing) {
  auto projector = StartProjector();
  auto scheduler = StartScheduler();
  auto worker = StartWorker("w", 4);
  const std::string parent = Submit({{"children", 5}, {"sleep_ms", 50}});
  ASSERT_TRUE(WaitUntil([&] { return State(parent).status == jobs::JobStatus::kCompleted; }, 30s)) << LogOf("scheduler");
  jobs::JobState s = State(parent);
  EXPECT_EQ(s.children_total, 5);
  EXPECT_EQ(s.children_completed, 5);
  EXPECT_EQ(History(parent).back().actor, "system:job-coordinator");
  ASSERT_TRUE(WaitUntil([&] { return Count(fmt::format("SELECT completed_chunks FROM jobs WHERE id = '{}' AND status = "
                                                       "'COMPLETED'", parent)) == 5; }, 30s));
  EXPECT_EQ(Count(fmt::format("SELECT total_chunks FROM jobs WHERE id = '{}'", parent)), 5);

  // A finished top-level scrape starts pairing, once.
  const std::string scrape = [&] {
    jobs::SubmitOptions o{.job_type = "SCRAPE_URL", .payload = {{"urls", {"http://groomers.test/"}}}};
    std::string c = base::NewUuid();
    return service_->Submit(o, {"test:submitter", c, c, "test", NowUs()})->job_id;
  }();
  auto ctx = [] {
    std::string c = base::NewUuid();  // each command its own causation id: event ids derive from it
    return jobs::CommandContext{"worker:test", c, c, "test", NowUs()};
  };
  auto claimed = service_->Execute(scrape, jobs::ClaimJob{"test", NowUs()}, ctx());
  ASSERT_TRUE(claimed.has_value());
  ASSERT_TRUE(service_->ExecuteOn(scrape, *claimed, jobs::CompleteJob{"test", 1, {}}, ctx()).has_value());
  const std::string pairing = base::UuidFromName("furrsight.job.idempotency-key", fmt::format("chain/{}/PROCESS_IMAGE_PAIR", scrape));
  ASSERT_TRUE(WaitUntil([&] { return State(pairing).status == jobs::JobStatus::kPending; }, 30s))
      << "pairing jobs: " << Count("SELECT count(*) FROM events WHERE payload->>'job_type' = 'PROCESS_IMAGE_PAIR'")
      << ", scrape events: " << History(scrape).size() << ", handled: "
      << Count("SELECT coalesce(sum(events_handled), 0) FROM process_manager_checkpoints") << "\n"
      << LogOf("scheduler");
  EXPECT_EQ(std::string(State(pairing).payload.at("crawl_job_id").as_string()), scrape);

  // Replay every final event from the start: nothing new is appended.
  EXPECT_EQ(scheduler.Stop(SIGTERM, 10s), 0);
  const long long before = Count("SELECT count(*) FROM events");
  Count("WITH d AS (DELETE FROM process_manager_checkpoints RETURNING 1) SELECT count(*) FROM d");
  auto replay = StartScheduler("scheduler-replay");
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT coalesce(sum(events_handled), 0) FROM process_manager_checkpoints") >= 7; }, 30s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(Count("SELECT count(*) FROM events"), before) << "a replayed trigger starts nothing twice";
  EXPECT_EQ(CountType("JobChildFinished"), 5);
}

TEST_F(WorkerTest, OnSigtermAWorkerFinishesShortJobsAndGivesBackLongOnesWithinTheGrace) {
  auto projector = StartProjector();
  auto worker = StartWorker("leaving", 2, {"--worker-grace-ms", "5000"});
  const std::string quick = Submit({{"sleep_ms", 700}});
  const std::string slow = Submit({{"sleep_ms", 60000}});
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobStarted") >= 2; }, 30s));
  const auto asked = Clock::now();
  worker.Signal(SIGTERM);
  auto code = worker.Wait(30s);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - asked).count();
  std::printf("worker stopped %.0f ms after SIGTERM (grace 5000 ms)\n", ms);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(State(quick).status, jobs::JobStatus::kCompleted);
  EXPECT_EQ(State(slow).status, jobs::JobStatus::kWaitingRetry);
  EXPECT_EQ(History(slow).back().type, "JobRetryScheduled");
  auto next = StartWorker("next", 1);
  ASSERT_TRUE(WaitUntil([&] { return State(slow).worker == "next"; }, 30s)) << "another worker takes it up";
  EXPECT_EQ(State(slow).attempt, 1) << "a job given back is not a failed attempt";
}

TEST_F(WorkerTest, WithRedisDownWorkersStillFindJobsByPolling) {
  auto projector = StartProjector();
  auto worker = StartWorker("no-redis", 2, {"--redis-url", "redis://127.0.0.1:1/0"});
  events::EventStore quiet(*pool_);  // appends without Redis hints
  jobs::JobService service(quiet);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    std::string c = base::NewUuid();
    ids.push_back(service.Submit({.job_type = "NOOP"}, {"test:submitter", c, c, "test", NowUs()})->job_id);
  }
  ASSERT_TRUE(WaitUntil([&] { return CountType("JobCompleted") >= 20; }, 60s)) << LogOf("worker-no-redis");
}

}  // namespace
}  // namespace furrsight::workers
