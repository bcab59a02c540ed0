// ReadCache: the API's hot reads (the pair list, one pair) cached in Redis.
// A key names the request and the version of the data it was read from — the
// read model's position for lists, the stream's version for one pair — so an
// entry is never stale: any new event changes the key, and a verify shows on
// the very next read. Entries expire after the TTL (api_cache_ttl_ms).
//
// Redis is an accelerator: when it cannot be reached, Get misses and Put does
// nothing, and the cache tries again after kRetryAfter — the API answers,
// uncached. Thread-safe: a small pool of connections behind a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/redis/redis_connection.hpp"

namespace furrsight::api {

class ReadCache {
 public:
  static constexpr auto kRetryAfter = std::chrono::seconds(1);
  static constexpr auto kTimeout = std::chrono::milliseconds(100);

  ReadCache(events::RedisAddress address, std::string prefix, std::chrono::milliseconds ttl);

  std::optional<std::string> Get(const std::string& key);
  void Put(const std::string& key, const std::string& value);
  // "<prefix>:cache:<kind>:<version>:<request>"
  std::string Key(std::string_view kind, std::string_view version, std::string_view request) const;

  std::int64_t hits() const { return hits_; }
  std::int64_t misses() const { return misses_; }
  std::int64_t errors() const { return errors_; }

 private:
  std::optional<events::RedisConnection> Acquire();
  void Release(events::RedisConnection conn);
  void MarkDown();

  const events::RedisAddress address_;
  const std::string prefix_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::vector<events::RedisConnection> idle_;        // guarded by mu_
  std::chrono::steady_clock::time_point down_until_;  // guarded by mu_
  std::atomic<std::int64_t> hits_{0}, misses_{0}, errors_{0};
};

}  // namespace furrsight::api
