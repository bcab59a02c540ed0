#include "events/store/migrator.hpp"

#include <hiredis/hiredis.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "orchestrator/embedded/child_process.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::events {
namespace {

namespace fs = std::filesystem;

long long CountApplied(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<long long>();
}

fs::path CopyOfMigrations(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const Migration& m : BuiltInMigrations()) std::ofstream(dir / m.name) << m.sql;
  return dir;
}

TEST(Migrator, AppliesEveryMigrationOnceThenIsANoop) {
  auto db = testing::TestDatabase::Create("migrate_once", /*migrated=*/false);
  const auto all = BuiltInMigrations();
  ASSERT_GE(all.size(), 1u);
  Migrator migrator(db->AdminUrl(), all);

  auto first = migrator.Apply();
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->size(), all.size());
  auto second = migrator.Apply();
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_TRUE(second->empty());
  EXPECT_EQ(CountApplied(db->AdminUrl()), static_cast<long long>(all.size()));

  auto status = migrator.Status();
  ASSERT_TRUE(status.has_value());
  for (const auto& s : *status) EXPECT_TRUE(s.applied) << s.name;
}

TEST(Migrator, StatusListsPendingBeforeApply) {
  auto db = testing::TestDatabase::Create("migrate_status", /*migrated=*/false);
  Migrator migrator(db->AdminUrl(), BuiltInMigrations());
  auto status = migrator.Status();
  ASSERT_TRUE(status.has_value()) << status.error().message;
  ASSERT_EQ(status->size(), BuiltInMigrations().size());
  for (const auto& s : *status) EXPECT_FALSE(s.applied) << s.name;
}

TEST(Migrator, RefusesAnEditedAppliedMigrationNamingIt) {
  auto db = testing::TestDatabase::Create("migrate_edited", /*migrated=*/false);
  fs::path dir = CopyOfMigrations("furrsight_migrations_edited");
  auto loaded = LoadMigrations(dir);
  ASSERT_TRUE(loaded.has_value());
  ASSERT_TRUE(Migrator(db->AdminUrl(), *loaded).Apply().has_value());

  const std::string victim = loaded->front().name;
  std::ofstream(dir / victim, std::ios::app) << "\n-- an innocent-looking edit\n";
  auto edited = LoadMigrations(dir);
  ASSERT_TRUE(edited.has_value());
  auto result = Migrator(db->AdminUrl(), *edited).Apply();
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, base::ErrorCode::kFailedPrecondition);
  EXPECT_NE(result.error().message.find(victim), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("changed after it was applied"), std::string::npos);
}

TEST(Migrator, RefusesMigrationFileWithBadName) {
  fs::path dir = CopyOfMigrations("furrsight_migrations_badname");
  std::ofstream(dir / "7_oops.sql") << "SELECT 1;";
  auto loaded = LoadMigrations(dir);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("7_oops.sql"), std::string::npos);
}

TEST(Migrator, FailedMigrationIsRolledBackAndNamed) {
  auto db = testing::TestDatabase::Create("migrate_fail", /*migrated=*/false);
  fs::path dir = CopyOfMigrations("furrsight_migrations_fail");
  std::ofstream(dir / "9999_broken.sql") << "CREATE TABLE half_done (x int);\nSELECT no_such_function();\n";
  auto loaded = LoadMigrations(dir);
  ASSERT_TRUE(loaded.has_value());
  auto result = Migrator(db->AdminUrl(), *loaded).Apply();
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().message.find("9999_broken.sql"), std::string::npos);
  pqxx::connection conn(db->AdminUrl());
  pqxx::read_transaction tx(conn);
  EXPECT_TRUE(tx.exec("SELECT to_regclass('half_done')")[0][0].is_null()) << "the failed file left a table";
  EXPECT_EQ(tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<size_t>(), BuiltInMigrations().size());
}

TEST(Migrator, ConcurrentMigrateProcessesApplyEachFileOnce) {
  auto db = testing::TestDatabase::Create("migrate_race", /*migrated=*/false);
  std::vector<orchestrator::ChildProcess> runs;
  for (int i = 0; i < 4; ++i) {
    auto child = orchestrator::ChildProcess::Spawn(
        {.argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "migrate", "--admin-database-url", db->AdminUrl(),
                  "--log-level", "warn"}});
    ASSERT_TRUE(child.has_value());
    runs.push_back(std::move(*child));
  }
  for (auto& run : runs) EXPECT_EQ(run.Wait(), 0);
  EXPECT_EQ(CountApplied(db->AdminUrl()), static_cast<long long>(BuiltInMigrations().size()));
}

// The harness gives each suite real servers: write and read both.
TEST(Harness, WritesAndReadsPostgresAndRedis) {
  auto db = testing::TestDatabase::Create("harness_rw");
  {
    pqxx::connection conn(db->AdminUrl());
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE harness_probe (k text PRIMARY KEY, v text)");
    tx.exec_params("INSERT INTO harness_probe VALUES ($1, $2)", "dog", "poodle");
    tx.commit();
  }
  {
    pqxx::connection conn(db->AdminUrl());
    pqxx::read_transaction tx(conn);
    EXPECT_EQ(tx.exec_params("SELECT v FROM harness_probe WHERE k = $1", "dog")[0][0].as<std::string>(), "poodle");
  }
  std::string url = db->RedisUrl();  // redis://127.0.0.1:PORT/0
  int port = std::stoi(url.substr(url.rfind(':') + 1));
  redisContext* c = redisConnect("127.0.0.1", port);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  std::string key = db->ChannelPrefix() + ":probe";
  freeReplyObject(redisCommand(c, "SET %s %s", key.c_str(), "groomed"));
  auto* reply = static_cast<redisReply*>(redisCommand(c, "GET %s", key.c_str()));
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(std::string(reply->str, reply->len), "groomed");
  freeReplyObject(reply);
  redisFree(c);
}

}  // namespace
}  // namespace furrsight::events
