#include "orchestrator/embedded/embedded_stack.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "events/store/migrator.hpp"

namespace furrsight::orchestrator {
namespace {

using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kDatabaseExists = "SELECT 1 FROM pg_database WHERE datname = $1";

}  // namespace

base::Result<void> EnsureDatabase(const std::string& maintenance_url, const std::string& name,
                                  const std::string& template_name) {
  try {
    pqxx::connection conn(maintenance_url);
    pqxx::nontransaction tx(conn);
    if (!tx.exec_params(std::string(kDatabaseExists), name).empty()) return {};
    // Identifiers cannot be bind parameters; quote_name escapes them.
    std::string sql = "CREATE DATABASE " + tx.quote_name(name);
    if (!template_name.empty()) sql += " TEMPLATE " + tx.quote_name(template_name);
    tx.exec(sql);
    return {};
  } catch (const pqxx::sql_error& e) {
    if (std::string_view(e.sqlstate()) == "42P04") return {};  // created concurrently
    return Fail(ErrorCode::kInternal, fmt::format("cannot create database {}: {}", name, e.what()));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kUnavailable, fmt::format("cannot create database {}: {}", name, e.what()));
  }
}

base::Result<std::unique_ptr<EmbeddedStack>> EmbeddedStack::Start(const EmbeddedStackOptions& o) {
  std::unique_ptr<EmbeddedStack> stack(new EmbeddedStack());
  stack->database_ = o.database;
  auto pg = PostgresServer::Start(
      {.dir = o.dir / "postgres", .port = o.postgres_port, .ephemeral = o.ephemeral});
  if (!pg) return std::unexpected(pg.error());
  stack->postgres_ = std::move(*pg);
  auto redis = RedisServer::Start(o.dir / "redis", o.redis_port);
  if (!redis) return std::unexpected(redis.error());
  stack->redis_ = std::move(*redis);

  if (auto ok = EnsureDatabase(stack->MaintenanceUrl(), o.database); !ok) return std::unexpected(ok.error());
  events::Migrator migrator(stack->AdminUrl(), events::BuiltInMigrations());
  auto applied = migrator.Apply(
      [](const std::string& name) { base::log::Info("migration applied", {{"name", name}}); });
  if (!applied) return std::unexpected(applied.error());
  return stack;
}

}  // namespace furrsight::orchestrator
