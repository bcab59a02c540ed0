// A gtest fixture for tests of the event store: a fresh migrated database,
// a connection pool as the service role, and an EventStore over it.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::testing {

inline events::NewEvent TestEvent(const std::string& stream_id, const std::string& type = "PairNoteAdded",
                                  const std::string& payload = R"({"note":"fluffy"})") {
  events::NewEvent e;
  e.event_id = base::NewUuid();
  e.stream_id = stream_id;
  e.type = type;
  e.payload_json = payload;
  e.metadata = {"user:test", "corr-" + e.event_id.substr(0, 8), "cmd-" + e.event_id.substr(0, 8), "test"};
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TestDatabase::Create(Label());
    pool_ = std::make_unique<events::PgPool>(db_->ServiceUrl(), 16, events::EventStore::PrepareStatements);
    store_ = std::make_unique<events::EventStore>(*pool_);
  }

  virtual std::string Label() const { return "store"; }

  long long CountEvents() {
    pqxx::connection conn(db_->AdminUrl());
    pqxx::read_transaction tx(conn);
    return tx.exec("SELECT count(*) FROM events")[0][0].as<long long>();
  }

  // Waits until every committed event is readable in log order. Readers see
  // only events below the oldest running transaction of the whole cluster,
  // and other suites write to the same cluster at the same time.
  void WaitReadable() {
    const long long total = CountEvents();
    for (int i = 0; i < 3000; ++i) {
      auto readable = store_->CountAfter({});
      if (readable && *readable == total) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "committed events did not become readable within 30 s";
  }

#ifdef FURRSIGHT_BIN_DIR
  // Runs `furrsight <words>` against this database; exit code and output.
  std::pair<int, std::string> Cli(const std::vector<std::string>& words) {
    auto out = std::filesystem::temp_directory_path() / ("furrsight_cli_" + db_->name());
    std::filesystem::remove(out);
    std::vector<std::string> argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight"};
    argv.insert(argv.end(), words.begin(), words.end());
    for (const std::string& flag : std::vector<std::string>{"--database-url", db_->ServiceUrl(), "--redis-url",
                                                            db_->RedisUrl(), "--log-level", "warn"})
      argv.push_back(flag);
    auto child = orchestrator::ChildProcess::Spawn({.argv = argv, .output_file = out});
    EXPECT_TRUE(child.has_value());
    int code = child->Wait().value_or(-1);
    std::ifstream in(out);
    return {code, std::string(std::istreambuf_iterator<char>(in), {})};
  }
#endif

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<events::PgPool> pool_;
  std::unique_ptr<events::EventStore> store_;
};

}  // namespace furrsight::testing
