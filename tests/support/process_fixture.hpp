// A gtest fixture for tests that run FurrSight's own processes (projector,
// scheduler, workers) against the harness's PostgreSQL and Redis: a fresh
// database, a job service whose appends push Redis hints, process starters
// with this database's settings, and polling helpers. Needs
// FURRSIGHT_BIN_DIR (the build's bin/) defined by the test target.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "events/redis/redis_notifier.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::testing {

inline std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ProcessTest : public StoreTest {
 protected:
  using ChildProcess = orchestrator::ChildProcess;

  void SetUp() override {
    StoreTest::SetUp();
    notifier_ = std::make_unique<events::RedisNotifier>(*events::ParseRedisUrl(db_->RedisUrl()), db_->ChannelPrefix());
    jobs_store_ = std::make_unique<events::EventStore>(*pool_, notifier_.get());
    service_ = std::make_unique<orchestrator::jobs::JobService>(*jobs_store_);
  }

  std::filesystem::path LogPath(const std::string& name) {
    auto p = Services().dir / (db_->name() + "-" + name + ".log");
    std::filesystem::remove(p);
    return p;
  }

  std::vector<std::string> Common(std::vector<std::string> argv) {
    for (const std::string& flag :
         std::vector<std::string>{"--database-url", db_->ServiceUrl(), "--redis-url", db_->RedisUrl(),
                                  "--redis-channel-prefix", db_->ChannelPrefix(), "--poll-interval-ms", "100"})
      argv.push_back(flag);
    return argv;
  }

  ChildProcess Spawn(std::vector<std::string> argv, const std::string& log) {
    auto child = ChildProcess::Spawn({.argv = std::move(argv), .output_file = LogPath(log)});
    EXPECT_TRUE(child.has_value()) << child.error().message;
    return std::move(*child);
  }

  // `projection`: one read model, or "" for all of them.
  ChildProcess StartProjector(const std::string& projection = "furrsight") {
    std::vector<std::string> argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "projections", "run"};
    if (!projection.empty()) argv.push_back(projection);
    for (const std::string& a : {std::string("--admin-database-url"), db_->AdminUrl(), std::string("--log-level"),
                                 std::string("warn")})
      argv.push_back(a);
    argv = Common(std::move(argv));
    return Spawn(argv, "projector");
  }

  ChildProcess StartScheduler(const std::string& log = "scheduler") {
    auto argv = Common({std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "scheduler", "--scheduler-interval-ms", "100",
                        "--log-level", "info"});
    return Spawn(argv, log);
  }

  ChildProcess StartWorker(const std::string& name, int slots, std::vector<std::string> extra = {},
                           const std::string& kinds = "noop") {
    auto argv = Common({std::string(FURRSIGHT_BIN_DIR) + "/furrsight-worker", "--kinds", kinds, "--name", name,
                        "--slots", std::to_string(slots), "--log-level", "info"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Spawn(argv, "worker-" + name);
  }

  std::string LogOf(const std::string& name) {
    std::ifstream in(Services().dir / (db_->name() + "-" + name + ".log"));
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

  std::string SubmitJob(orchestrator::jobs::SubmitOptions o) {
    std::string id = base::NewUuid();
    auto r = service_->Submit(o, {"test:submitter", id, id, "test", NowUs()});
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? r->job_id : std::string();
  }

  orchestrator::jobs::JobState State(const std::string& id) {
    auto s = service_->Load(id);
    EXPECT_TRUE(s.has_value());
    return s ? *s : orchestrator::jobs::JobState{};
  }

  // Polls `done` every 50 ms up to `limit`.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
    for (auto deadline = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(std::chrono::milliseconds(50)))
      if (done()) return true;
    return done();
  }

  // The first column of the first row; -1 when there is no row (e.g. a read model not caught up yet) or it is NULL.
  // -1 while the answer does not exist yet: no row, or a read model the
  // projector has not created yet (its first generation).
  long long Count(const std::string& sql) {
    pqxx::connection conn(db_->AdminUrl());
    pqxx::nontransaction tx(conn);
    try {
      const pqxx::result r = tx.exec(sql);
      return r.empty() || r[0][0].is_null() ? -1 : r[0][0].as<long long>();
    } catch (const pqxx::undefined_table&) {
      return -1;
    }
  }

  long long CountType(const std::string& type) {
    return Count(fmt::format("SELECT count(*) FROM events WHERE event_type = '{}'", type));
  }

  // (type, actor, payload) of every event of a job, in order.
  struct Recorded {
    std::string type, actor;
    boost::json::object payload;
  };
  std::vector<Recorded> History(const std::string& id) {
    std::vector<Recorded> out;
    auto events = store_->ReadStream(orchestrator::jobs::JobStream(id));
    EXPECT_TRUE(events.has_value()) << events.error().message;
    if (!events) return out;
    for (const auto& e : *events)
      out.push_back({e.type, std::string(boost::json::parse(e.metadata_json).as_object().at("actor").as_string()),
                     boost::json::parse(e.payload_json).as_object()});
    return out;
  }

  std::unique_ptr<events::RedisNotifier> notifier_;
  std::unique_ptr<events::EventStore> jobs_store_;
  std::unique_ptr<orchestrator::jobs::JobService> service_;
};

}  // namespace furrsight::testing
