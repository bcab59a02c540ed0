// Projector processes (`furrsight projections run`) against a real
// PostgreSQL: killed with SIGKILL again and again during catch-up, the
// tables still end equal to a clean rebuild; two processes for one
// projection — one applies, the other stands by and takes over.
#include <signal.h>

#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "orchestrator/embedded/child_process.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::projections {
namespace {

using namespace std::chrono_literals;

class ProjectorProcessTest : public testing::StoreTest {
 protected:
  std::string Label() const override { return "projector_proc"; }

  orchestrator::ChildProcess StartProjector(const std::filesystem::path& log) {
    auto child = orchestrator::ChildProcess::Spawn(
        {.argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "projections", "run", "furrsight", "--database-url",
                  db_->ServiceUrl(), "--admin-database-url", db_->AdminUrl(), "--redis-url", db_->RedisUrl(),
                  "--redis-channel-prefix", db_->ChannelPrefix(), "--poll-interval-ms", "50"},
         .output_file = log});
    EXPECT_TRUE(child.has_value()) << child.error().message;
    return std::move(*child);
  }

  std::optional<Generation> LiveGeneration() {
    pqxx::connection conn(db_->AdminUrl());
    auto live = LoadLive(conn, "furrsight");
    if (!live || !*live) return std::nullopt;
    return **live;
  }

  bool WaitCaughtUp(std::chrono::seconds limit) {
    auto head = store_->Head();
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto g = LiveGeneration();
      if (g && g->checkpoint == *head) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::string Checksum(const std::string& schema, const std::string& table) {
    return testing::TableChecksum(db_->AdminUrl(), schema, table);
  }


  static bool LogSays(const std::filesystem::path& log, std::string_view needle) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    return text.find(needle) != std::string::npos;
  }

  std::filesystem::path LogPath(const std::string& name) {
    auto p = testing::Services().dir / (db_->name() + "-" + name + ".log");
    std::filesystem::remove(p);
    return p;
  }

  // Runs `furrsight WORDS...` against this database; exit code and output.
  std::pair<int, std::string> Cli(std::vector<std::string> words) {
    auto out = LogPath("cli");
    std::vector<std::string> argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight"};
    argv.insert(argv.end(), words.begin(), words.end());
    for (const std::string& flag : std::vector<std::string>{"--database-url", db_->ServiceUrl(), "--admin-database-url",
                                                            db_->AdminUrl(), "--redis-url", db_->RedisUrl(),
                                                            "--log-level", "warn"})
      argv.push_back(flag);
    auto child = orchestrator::ChildProcess::Spawn({.argv = argv, .output_file = out});
    EXPECT_TRUE(child.has_value());
    int code = child->Wait().value_or(-1);
    std::ifstream in(out);
    return {code, std::string((std::istreambuf_iterator<char>(in)), {})};
  }

  FurrSightProjection projection_;
};

TEST_F(ProjectorProcessTest, JobCommandsSubmitShowListCancelAndRefuseBadInput) {
  auto [submit, submit_out] =
      Cli({"jobs", "submit", "SCRAPE_URL", "--payload", R"({"urls":["http://groomers.test/"]})", "--idempotency-key", "k1"});
  ASSERT_EQ(submit, 0) << submit_out;
  const std::string id = submit_out.substr(0, 36);
  auto [again, again_out] =
      Cli({"jobs", "submit", "SCRAPE_URL", "--payload", R"({"urls":["http://groomers.test/"]})", "--idempotency-key", "k1"});
  EXPECT_EQ(again, 0);
  EXPECT_NE(again_out.find(id + "  (already requested"), std::string::npos) << again_out;
  auto [show, show_out] = Cli({"jobs", "show", id});
  EXPECT_EQ(show, 0) << show_out;
  EXPECT_NE(show_out.find("SCRAPE_URL  PENDING"), std::string::npos) << show_out;
  EXPECT_NE(show_out.find("JobRequested"), std::string::npos) << show_out;
  auto [cancel, cancel_out] = Cli({"jobs", "cancel", id, "--reason", "test"});
  EXPECT_EQ(cancel, 0) << cancel_out;
  EXPECT_NE(cancel_out.find("CANCELLED"), std::string::npos) << cancel_out;
  auto [cancel2, cancel2_out] = Cli({"jobs", "cancel", id});
  EXPECT_EQ(cancel2, 1);
  EXPECT_NE(cancel2_out.find("cannot cancel a job that is CANCELLED"), std::string::npos) << cancel2_out;

  auto [rebuild, rebuild_out] = Cli({"projections", "rebuild", "furrsight"});
  ASSERT_EQ(rebuild, 0) << rebuild_out;
  auto [list, list_out] = Cli({"jobs", "list", "--status", "cancelled"});
  EXPECT_EQ(list, 0) << list_out;
  EXPECT_NE(list_out.find(id), std::string::npos) << list_out;

  auto [type, type_out] = Cli({"jobs", "submit", "SCRAPE_ALL", "--payload", "{}"});
  EXPECT_EQ(type, 1);
  EXPECT_NE(type_out.find("unknown job type 'SCRAPE_ALL'"), std::string::npos) << type_out;
  auto [json, json_out] = Cli({"jobs", "submit", "SCRAPE_URL", "--payload", "{not json"});
  EXPECT_EQ(json, 2);
  EXPECT_NE(json_out.find("--payload must be a JSON object"), std::string::npos) << json_out;
  auto [field, field_out] = Cli({"jobs", "submit", "GENERATE_QUERIES", "--payload", "{}"});
  EXPECT_EQ(field, 1);
  EXPECT_NE(field_out.find("GENERATE_QUERIES needs payload.topic"), std::string::npos) << field_out;
  auto [missing, missing_out] = Cli({"jobs", "show", "00000000-0000-4000-8000-000000000000"});
  EXPECT_EQ(missing, 1);
  EXPECT_NE(missing_out.find("no job"), std::string::npos) << missing_out;
}

TEST_F(ProjectorProcessTest, OperatorCommandsRebuildSwitchSnapshotAndDrop) {
  testing::GenerateHistory(*store_, {.events = 3000, .seed = 14});
  WaitReadable();
  auto [first, first_out] = Cli({"projections", "rebuild", "furrsight"});
  ASSERT_EQ(first, 0) << first_out;
  EXPECT_NE(first_out.find("switched: readers now see generation 1"), std::string::npos) << first_out;
  auto [second, second_out] = Cli({"projections", "rebuild", "furrsight"});
  ASSERT_EQ(second, 0) << second_out;
  EXPECT_NE(second_out.find("events/s"), std::string::npos) << second_out;

  auto [status, status_out] = Cli({"projections", "status"});
  ASSERT_EQ(status, 0) << status_out;
  EXPECT_NE(status_out.find("retired"), std::string::npos) << status_out;
  EXPECT_NE(status_out.find("live"), std::string::npos) << status_out;

  auto [drop_live, drop_live_out] = Cli({"projections", "drop", "furrsight", "2"});
  EXPECT_EQ(drop_live, 1);
  EXPECT_NE(drop_live_out.find("is live"), std::string::npos) << drop_live_out;
  auto [drop_old, drop_old_out] = Cli({"projections", "drop", "furrsight", "1"});
  EXPECT_EQ(drop_old, 0) << drop_old_out;

  auto [snap, snap_out] = Cli({"projections", "rebuild", "furrsight", "--until", "100", "--into", "audit_at_100"});
  ASSERT_EQ(snap, 0) << snap_out;
  pqxx::connection conn(db_->AdminUrl());
  pqxx::read_transaction tx(conn);
  EXPECT_LE(tx.exec("SELECT count(*) FROM audit_at_100.grooming_pairs")[0][0].as<int>(), 100);
  EXPECT_GT(tx.exec("SELECT count(*) FROM grooming_pairs")[0][0].as<int>(),
            tx.exec("SELECT count(*) FROM audit_at_100.grooming_pairs")[0][0].as<int>());

  auto [bad_until, bad_until_out] = Cli({"projections", "rebuild", "furrsight", "--until", "100"});
  EXPECT_EQ(bad_until, 2) << "a snapshot needs --into";
  auto [unknown, unknown_out] = Cli({"projections", "rebuild", "catz"});
  EXPECT_EQ(unknown, 1);
  EXPECT_NE(unknown_out.find("no projection named 'catz'"), std::string::npos) << unknown_out;
  auto pairs = tx.exec("SELECT id FROM grooming_pairs LIMIT 1");
  auto [state, state_out] = Cli({"events", "state", "pair-" + pairs[0][0].as<std::string>(), "--as-of", "nonsense"});
  EXPECT_EQ(state, 1);
  EXPECT_NE(state_out.find("neither a log position"), std::string::npos) << state_out;
  auto [state_ok, state_ok_out] = Cli({"events", "state", "pair-" + pairs[0][0].as<std::string>()});
  EXPECT_EQ(state_ok, 0) << state_ok_out;
  EXPECT_NE(state_ok_out.find("\"status\":"), std::string::npos) << state_ok_out;
}

TEST_F(ProjectorProcessTest, KilledTwentyTimesDuringCatchUpStillEqualsACleanRebuild) {
  testing::GenerateHistory(*store_, {.events = 60000, .seed = 11});
  WaitReadable();
  const auto head = *store_->Head();
  std::mt19937 rng(5);
  int killed_while_behind = 0;
  for (int i = 0; i < 20; ++i) {
    const auto log = LogPath(fmt::format("kill-{}", i));
    auto proc = StartProjector(log);
    // Killed only once it is running (a loaded machine may take longer
    // than the whole random pause just to start a process).
    for (int wait = 0; wait < 600 && !LogSays(log, "\"msg\":\"projector active\""); ++wait)
      std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(100, 300)(rng)));
    proc.Signal(SIGKILL);
    proc.Wait();
    auto g = LiveGeneration();
    if (g && g->checkpoint != head) ++killed_while_behind;
  }
  std::printf("%d of 20 kills landed during catch-up\n", killed_while_behind);
  EXPECT_GE(killed_while_behind, 5) << "most kills should land during catch-up";
  auto finisher = StartProjector(LogPath("finish"));
  ASSERT_TRUE(WaitCaughtUp(300s));
  finisher.Stop(SIGTERM, 10s);

  auto live = LiveGeneration();
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->events_applied, *store_->CountAfter({})) << "no event applied twice or skipped";
  pqxx::connection conn(db_->AdminUrl());
  auto clean = CreateGeneration(conn, projection_);
  ASSERT_TRUE(clean.has_value());
  Projector rebuilder(db_->AdminUrl(), *store_, nullptr, projection_, {.batch_size = 1000});
  ASSERT_TRUE(rebuilder.CatchUp(clean->generation).has_value());
  for (const auto& table : projection_.tables())
    EXPECT_EQ(Checksum(live->schema, table), Checksum(clean->schema, table)) << table;
}

TEST_F(ProjectorProcessTest, OnlyOneProcessAppliesAndTheStandbyTakesOver) {
  testing::GenerateHistory(*store_, {.events = 2000, .seed = 12});
  auto log_a = LogPath("a"), log_b = LogPath("b");
  auto a = StartProjector(log_a);
  auto b = StartProjector(log_b);
  const char* kActive = "\"msg\":\"projector active\"";
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!LogSays(log_a, kActive) && !LogSays(log_b, kActive) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  std::this_thread::sleep_for(1500ms);  // three standby retries
  const bool a_active = LogSays(log_a, kActive), b_active = LogSays(log_b, kActive);
  ASSERT_NE(a_active, b_active) << "exactly one projector process is active";
  ASSERT_TRUE(WaitCaughtUp(60s));

  auto& active = a_active ? a : b;
  auto& standby_log = a_active ? log_b : log_a;
  active.Signal(SIGKILL);
  active.Wait();
  const auto killed_at = std::chrono::steady_clock::now();
  while (!LogSays(standby_log, kActive) && std::chrono::steady_clock::now() - killed_at < 30s)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(LogSays(standby_log, kActive)) << "the standby did not take over within 30 s";
  std::printf("standby took over after %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count());

  // And it applies what comes next.
  testing::GenerateHistory(*store_, {.events = 500, .seed = 13});
  WaitReadable();
  EXPECT_TRUE(WaitCaughtUp(60s));
  (a_active ? b : a).Stop(SIGTERM, 10s);
}

}  // namespace
}  // namespace furrsight::projections
