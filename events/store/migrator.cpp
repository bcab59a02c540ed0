#include "events/store/migrator.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/config.hpp"
#include "events/base/sha256.hpp"

namespace furrsight::events {
namespace {

using base::ErrorCode;
using base::Fail;

// 'FURRMIGR' as a 64-bit advisory lock key.
inline constexpr long long kMigrateLockKey = 0x465552524d494752LL;

inline constexpr std::string_view kCreateTable = R"~(
CREATE TABLE IF NOT EXISTS schema_migrations (
  name       text PRIMARY KEY,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))~";
inline constexpr std::string_view kSelectApplied =
    "SELECT name, checksum, applied_at::text FROM schema_migrations ORDER BY name";
inline constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)";

struct Applied {
  std::string checksum;
  std::string applied_at;
};

base::Result<std::map<std::string, Applied>> ReadApplied(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  tx.exec(std::string(kCreateTable));
  std::map<std::string, Applied> out;
  for (const auto& row : tx.exec(std::string(kSelectApplied)))
    out[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
  return out;
}

// Refuses edited or unknown applied migrations, naming the file.
base::Result<void> CheckApplied(const std::map<std::string, Applied>& applied,
                                const std::vector<Migration>& migrations) {
  for (const auto& [name, a] : applied) {
    auto it = std::find_if(migrations.begin(), migrations.end(), [&](const Migration& m) { return m.name == name; });
    if (it == migrations.end())
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("the database has migration {} applied, which this furrsight does not have: "
                              "run a newer furrsight",
                              name));
    if (it->checksum != a.checksum)
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("migration {} was changed after it was applied (checksum {} in the database, {} "
                              "now): released migrations must not be edited; restore it and add a new "
                              "numbered file instead",
                              name, a.checksum.substr(0, 12), it->checksum.substr(0, 12)));
  }
  return {};
}

}  // namespace

Migration MakeMigration(std::string name, std::string sql) {
  std::string checksum = base::Sha256Hex(sql);
  return Migration{std::move(name), std::move(sql), std::move(checksum)};
}

base::Result<std::vector<Migration>> LoadMigrations(const std::filesystem::path& dir) {
  static const std::regex kName(R"(^\d{4}_[a-z0-9_]+\.sql$)");
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot read migrations dir {}: {}", dir.string(), ec.message()));
  std::vector<Migration> out;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".sql") continue;
    if (!std::regex_match(name, kName))
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("migration file {} does not match NNNN_name.sql (lowercase, digits, _)", name));
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    out.push_back(MakeMigration(name, buf.str()));
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.name < b.name; });
  return out;
}

Migrator::Migrator(std::string admin_url, std::vector<Migration> migrations)
    : admin_url_(std::move(admin_url)), migrations_(std::move(migrations)) {}

base::Result<std::vector<std::string>> Migrator::Apply(
    const std::function<void(const std::string&)>& on_applied) const {
  try {
    pqxx::connection conn(admin_url_);
    {
      pqxx::nontransaction lock(conn);
      lock.exec_params("SELECT pg_advisory_lock($1)", kMigrateLockKey);
    }
    auto applied = ReadApplied(conn);
    if (!applied) return std::unexpected(applied.error());
    if (auto ok = CheckApplied(*applied, migrations_); !ok) return std::unexpected(ok.error());

    std::vector<std::string> done;
    for (const Migration& m : migrations_) {
      if (applied->contains(m.name)) continue;
      try {
        pqxx::work tx(conn);
        tx.exec(m.sql);
        tx.exec_params(std::string(kInsertApplied), m.name, m.checksum);
        tx.commit();
      } catch (const pqxx::sql_error& e) {
        return Fail(ErrorCode::kFailedPrecondition,
                    fmt::format("migration {} failed and was rolled back: {}", m.name, e.what()));
      }
      done.push_back(m.name);
      if (on_applied) on_applied(m.name);
    }
    pqxx::nontransaction unlock(conn);
    unlock.exec_params("SELECT pg_advisory_unlock($1)", kMigrateLockKey);
    return done;
  } catch (const pqxx::broken_connection& e) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot connect to PostgreSQL at {}: {}", base::RedactUrl(admin_url_), e.what()));
  } catch (const pqxx::sql_error& e) {
    return Fail(ErrorCode::kInternal, fmt::format("migrate: {}", e.what()));
  }
}

base::Result<std::vector<MigrationState>> Migrator::Status() const {
  try {
    pqxx::connection conn(admin_url_);
    auto applied = ReadApplied(conn);
    if (!applied) return std::unexpected(applied.error());
    std::vector<MigrationState> out;
    for (const Migration& m : migrations_) {
      auto it = applied->find(m.name);
      out.push_back({m.name, it != applied->end(), it != applied->end() ? it->second.applied_at : ""});
    }
    if (auto ok = CheckApplied(*applied, migrations_); !ok) return std::unexpected(ok.error());
    return out;
  } catch (const pqxx::broken_connection& e) {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot connect to PostgreSQL at {}: {}", base::RedactUrl(admin_url_), e.what()));
  } catch (const pqxx::sql_error& e) {
    return Fail(ErrorCode::kInternal, fmt::format("migrate --status: {}", e.what()));
  }
}

}  // namespace furrsight::events
