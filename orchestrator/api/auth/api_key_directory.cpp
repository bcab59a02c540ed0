#include "orchestrator/api/auth/api_key_directory.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/text.hpp"

#include "events/store/pg_pool.hpp"

namespace furrsight::api::auth {
namespace {

inline constexpr std::string_view kColumns = R"~(
SELECT key_id, prefix, name, key_hash, array_to_string(roles, ','), coalesce(user_id, ''), coalesce(issued_by, ''),
       issued_at::text, revoked_at IS NOT NULL, coalesce(revoked_by, ''), coalesce(revoked_at::text, ''),
       coalesce(revoke_reason, ''), coalesce((extract(epoch FROM expires_at) * 1000000)::bigint, 0),
       coalesce(expires_at::text, '')
FROM api_keys)~";

inline const std::string kFindApiKey = std::string(kColumns) + " WHERE key_id = $1";
inline const std::string kListApiKeys = std::string(kColumns) + " ORDER BY issued_at DESC, key_id";

std::vector<std::string> SplitRoles(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    if (comma != 0) out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

ApiKeyRecord FromRow(const pqxx::row& r) {
  ApiKeyRecord k;
  k.key_id = r[0].as<std::string>();
  k.prefix = r[1].as<std::string>();
  k.name = r[2].as<std::string>();
  k.key_hash = r[3].as<std::string>();
  k.roles = SplitRoles(r[4].is_null() ? "" : r[4].c_str());
  k.user_id = r[5].as<std::string>();
  k.issued_by = r[6].as<std::string>();
  k.issued_at = r[7].as<std::string>();
  k.revoked = r[8].as<bool>();
  k.revoked_by = r[9].as<std::string>();
  k.revoked_at = r[10].as<std::string>();
  k.revoke_reason = r[11].as<std::string>();
  k.expires_at_us = r[12].as<std::int64_t>();
  k.expires_at = r[13].as<std::string>();
  return k;
}

// Before version 3 of the furrsight projection there is no api_keys table;
// before version 5 it has no expires_at column.
base::Error NoReadModel(const pqxx::sql_error& e) {
  return {base::ErrorCode::kUnavailable,
          fmt::format("the api_keys read model is missing or older than this FurrSight (it needs version 5 of the "
                      "furrsight projection): run 'furrsight projections rebuild furrsight' ({})",
                      base::Trim(e.what())),
          std::nullopt};
}

}  // namespace

base::Result<std::optional<ApiKeyRecord>> PgApiKeyDirectory::Find(std::string_view key_id) {
  return events::WithConnection(pool_, "looking up an API key", [&](pqxx::connection& conn) -> base::Result<std::optional<ApiKeyRecord>> {
    try {
      pqxx::read_transaction tx(conn);
      auto rows = tx.exec_params(kFindApiKey, std::string(key_id));
      if (rows.empty()) return std::optional<ApiKeyRecord>();
      return std::optional<ApiKeyRecord>(FromRow(rows[0]));
    } catch (const pqxx::undefined_table& e) {
      return std::unexpected(NoReadModel(e));
    } catch (const pqxx::undefined_column& e) {
      return std::unexpected(NoReadModel(e));
    }
  });
}

base::Result<std::vector<ApiKeyRecord>> PgApiKeyDirectory::List() {
  return events::WithConnection(pool_, "listing API keys", [&](pqxx::connection& conn) -> base::Result<std::vector<ApiKeyRecord>> {
    try {
      pqxx::read_transaction tx(conn);
      std::vector<ApiKeyRecord> out;
      for (const auto& row : tx.exec(kListApiKeys)) out.push_back(FromRow(row));
      return out;
    } catch (const pqxx::undefined_table& e) {
      return std::unexpected(NoReadModel(e));
    } catch (const pqxx::undefined_column& e) {
      return std::unexpected(NoReadModel(e));
    }
  });
}

CachingApiKeyDirectory::CachingApiKeyDirectory(ApiKeyDirectory& inner) : CachingApiKeyDirectory(inner, Options{}) {}
CachingApiKeyDirectory::CachingApiKeyDirectory(ApiKeyDirectory& inner, Options options)
    : inner_(inner), options_(std::move(options)) {}

base::Result<std::optional<ApiKeyRecord>> CachingApiKeyDirectory::Find(std::string_view key_id) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key_id);
    if (it != entries_.end() && options_.clock() < it->second.expires) return it->second.record;
  }
  // Looked up outside the lock: a slow database does not stall other keys.
  auto found = inner_.Find(key_id);
  if (!found) return found;
  std::lock_guard lock(mu_);
  if (entries_.size() >= options_.max_entries) entries_.clear();
  entries_[std::string(key_id)] = {*found, options_.clock() + (*found ? options_.ttl : options_.miss_ttl)};
  return found;
}

}  // namespace furrsight::api::auth
