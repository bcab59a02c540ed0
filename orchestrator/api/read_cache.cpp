#include "orchestrator/api/read_cache.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include "events/base/log.hpp"

namespace furrsight::api {

namespace {
constexpr std::size_t kMaxIdle = 16;
}

ReadCache::ReadCache(events::RedisAddress address, std::string prefix, std::chrono::milliseconds ttl)
    : address_(std::move(address)), prefix_(std::move(prefix)), ttl_(ttl) {}

std::string ReadCache::Key(std::string_view kind, std::string_view version, std::string_view request) const {
  return fmt::format("{}:cache:{}:{}:{}", prefix_, kind, version, request);
}

std::optional<events::RedisConnection> ReadCache::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (std::chrono::steady_clock::now() < down_until_) return std::nullopt;
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  auto conn = events::RedisConnection::Connect(address_, kTimeout, kTimeout);
  if (!conn) {
    MarkDown();
    return std::nullopt;
  }
  return std::move(*conn);
}

void ReadCache::Release(events::RedisConnection conn) {
  if (!conn.ok()) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
}

void ReadCache::MarkDown() {
  ++errors_;
  std::lock_guard lock(mu_);
  const bool was_up = std::chrono::steady_clock::now() >= down_until_;
  down_until_ = std::chrono::steady_clock::now() + kRetryAfter;
  idle_.clear();
  if (was_up) base::log::Warn("api cache: Redis unreachable; answering uncached");
}

std::optional<std::string> ReadCache::Get(const std::string& key) {
  auto conn = Acquire();
  if (!conn) {
    ++misses_;
    return std::nullopt;
  }
  auto reply = conn->Command("GET %b", key.data(), key.size());
  if (!reply) {
    MarkDown();
    ++misses_;
    return std::nullopt;
  }
  std::optional<std::string> value;
  if ((*reply)->type == REDIS_REPLY_STRING) value.emplace((*reply)->str, (*reply)->len);
  Release(std::move(*conn));
  ++(value ? hits_ : misses_);
  return value;
}

void ReadCache::Put(const std::string& key, const std::string& value) {
  auto conn = Acquire();
  if (!conn) return;
  auto reply = conn->Command("SET %b %b PX %lld", key.data(), key.size(), value.data(), value.size(),
                             static_cast<long long>(ttl_.count()));
  if (!reply) {
    MarkDown();
    return;
  }
  Release(std::move(*conn));
}

}  // namespace furrsight::api
