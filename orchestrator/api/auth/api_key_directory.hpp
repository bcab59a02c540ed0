// ApiKeyDirectory: where the authenticator looks up an API key by its id.
// PgApiKeyDirectory reads the `api_keys` read model (FurrSight projection);
// CachingApiKeyDirectory keeps answers for a few seconds in front of it.
//
// Freshness: the read model trails the log by the projector's lag (normally
// well under a second), and the cache adds at most its TTL (default 5 s). So
// a revoked key stops working within lag + TTL of `apikeys revoke`, and a
// newly issued key works within lag (a miss is cached for a shorter time).
//
// Thread-safety: both are thread-safe; the cache's map is guarded by a mutex.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::events {
class PgPool;
}

namespace furrsight::api::auth {

struct ApiKeyRecord {
  std::string key_id;
  std::string prefix;    // fs_<key_id>_
  std::string name;
  std::string key_hash;  // SHA-256 of the secret, hex
  std::vector<std::string> roles;
  std::string user_id;
  std::string issued_by;
  std::string issued_at;
  bool revoked = false;
  std::string revoked_by;
  std::string revoked_at;
  std::string revoke_reason;
  std::int64_t expires_at_us = 0;  // 0: never expires
  std::string expires_at;          // "" when it never expires
};

class ApiKeyDirectory {
 public:
  virtual ~ApiKeyDirectory() = default;
  // nullopt when no key has this id. kUnavailable when the store is down.
  virtual base::Result<std::optional<ApiKeyRecord>> Find(std::string_view key_id) = 0;
};

class PgApiKeyDirectory final : public ApiKeyDirectory {
 public:
  explicit PgApiKeyDirectory(events::PgPool& pool) : pool_(pool) {}
  base::Result<std::optional<ApiKeyRecord>> Find(std::string_view key_id) override;
  // Every key, newest first (the CLI's `apikeys list`).
  base::Result<std::vector<ApiKeyRecord>> List();

 private:
  events::PgPool& pool_;
};

class CachingApiKeyDirectory final : public ApiKeyDirectory {
 public:
  struct Options {
    std::chrono::milliseconds ttl{5000};       // how long a found key (or its revocation) is believed
    std::chrono::milliseconds miss_ttl{1000};  // how long "no such key" is believed
    std::size_t max_entries = 10000;           // the map is cleared when it grows past this
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  };
  explicit CachingApiKeyDirectory(ApiKeyDirectory& inner);
  CachingApiKeyDirectory(ApiKeyDirectory& inner, Options options);

  // Errors are not cached.
  base::Result<std::optional<ApiKeyRecord>> Find(std::string_view key_id) override;

 private:
  struct Entry {
    std::optional<ApiKeyRecord> record;
    std::chrono::steady_clock::time_point expires;
  };
  ApiKeyDirectory& inner_;
  const Options options_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // guarded by mu_
};

}  // namespace furrsight::api::auth
