#include "tests/support/test_database.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "orchestrator/embedded/embedded_stack.hpp"

namespace furrsight::testing {
namespace {

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    throw std::runtime_error(fmt::format(
        "{} is not set: *_pgtest programs need the services of the test harness; run them as "
        "'scripts/test' or 'build/bin/furrsight services run -- ctest --test-dir build'",
        name));
  return v;
}

}  // namespace

const TestServices& Services() {
  static const TestServices services{RequireEnv("FURRSIGHT_TEST_ADMIN_URL"), RequireEnv("FURRSIGHT_TEST_TEMPLATE"),
                                     RequireEnv("FURRSIGHT_TEST_REDIS_URL"),
                                     RequireEnv("FURRSIGHT_TEST_SERVICES_DIR")};
  return services;
}

std::string TableChecksum(const std::string& url, const std::string& schema, const std::string& table) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  return tx.exec(fmt::format("SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                             "FROM {}.{} t",
                             tx.quote_name(schema), tx.quote_name(table)))[0][0]
      .as<std::string>();
}

std::string WithDatabase(const std::string& url, std::string_view database) {
  auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + std::string(database);
}

std::string WithUser(const std::string& url, std::string_view user) {
  auto scheme_end = url.find("://") + 3;
  auto at = url.find('@', scheme_end);
  return url.substr(0, scheme_end) + std::string(user) + url.substr(at);
}

std::unique_ptr<TestDatabase> TestDatabase::Create(std::string_view label, bool migrated) {
  static std::atomic<int> counter{0};
  std::string name = fmt::format("t_{}_{}_{}", label, ::getpid(), counter++);
  auto ok = orchestrator::EnsureDatabase(Services().maintenance_url, name,
                                         migrated ? Services().template_name : std::string());
  if (!ok) throw std::runtime_error(ok.error().message);
  return std::unique_ptr<TestDatabase>(new TestDatabase(name));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection conn(Services().maintenance_url);
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is thrown away after the run anyway.
  }
}

std::string TestDatabase::AdminUrl() const { return WithDatabase(Services().maintenance_url, name_); }
std::string TestDatabase::ServiceUrl() const { return WithUser(AdminUrl(), "furrsight_app"); }

base::Config TestDatabase::Config() const {
  return base::Config::WithOverrides({{"database_url", ServiceUrl()},
                                      {"admin_database_url", AdminUrl()},
                                      {"redis_url", RedisUrl()},
                                      {"redis_channel_prefix", ChannelPrefix()},
                                      {"poll_interval_ms", "100"}});
}

}  // namespace furrsight::testing
