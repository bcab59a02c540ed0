// Test support for *_pgtest programs: the real PostgreSQL and Redis that
// `furrsight services run` started (see scripts/test), and a fresh database
// per test suite, cloned from the migrated template, so suites are
// independent and run in parallel.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "events/base/config.hpp"

namespace furrsight::testing {

struct TestServices {
  std::string maintenance_url;  // superuser, database "postgres"
  std::string template_name;    // migrated template database
  std::string redis_url;
  std::filesystem::path dir;    // the harness's directory (tests may start more servers under it)
};

// From the environment `furrsight services run` sets; fails loudly if absent.
const TestServices& Services();

class TestDatabase {
 public:
  // A new database named after `label`, cloned from the migrated template
  // (or, with `migrated` false, an empty one).
  static std::unique_ptr<TestDatabase> Create(std::string_view label, bool migrated = true);
  ~TestDatabase();

  const std::string& name() const { return name_; }
  std::string AdminUrl() const;    // superuser, owner of the schema
  std::string ServiceUrl() const;  // the furrsight_app role
  std::string RedisUrl() const { return Services().redis_url; }
  // A pub/sub channel prefix of this database's own (Redis channels are global).
  std::string ChannelPrefix() const { return "furrsight-test-" + name_; }
  // Settings pointing at this database, Redis and prefix.
  base::Config Config() const;

 private:
  explicit TestDatabase(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// "<rows>:<md5 of every row's text, sorted>" of one table: equal for two
// tables exactly when they hold the same rows.
std::string TableChecksum(const std::string& url, const std::string& schema, const std::string& table);

// Replaces the database name in a libpq URI.
std::string WithDatabase(const std::string& url, std::string_view database);
std::string WithUser(const std::string& url, std::string_view user);

}  // namespace furrsight::testing
