// RedisConnection: one hiredis connection, owned (RAII), with the URL parsed
// from FURRSIGHT_REDIS_URL (redis://[:password@]host:port[/db]).
// Not thread-safe: one owner thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "events/base/error.hpp"

struct redisContext;
struct redisReply;

namespace furrsight::events {

struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
};

base::Result<RedisAddress> ParseRedisUrl(const std::string& url);

class RedisConnection {
 public:
  // Connects (and AUTHs / SELECTs) within `timeout`; commands then time out after `command_timeout`.
  static base::Result<RedisConnection> Connect(const RedisAddress& address, std::chrono::milliseconds timeout,
                                               std::chrono::milliseconds command_timeout);
  RedisConnection(RedisConnection&&) noexcept;
  RedisConnection& operator=(RedisConnection&&) noexcept;
  ~RedisConnection();

  redisContext* get() const { return ctx_; }
  bool ok() const;

  // A command with printf-style hiredis formatting; the reply, or an error.
  struct ReplyDeleter {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
  base::Result<Reply> Command(const char* format, ...);

 private:
  explicit RedisConnection(redisContext* ctx) : ctx_(ctx) {}
  redisContext* ctx_ = nullptr;
};

// Pub/sub channel names, one place: "<prefix>:events", "<prefix>:events:<category>",
// "<prefix>:wake:<name>" (e.g. wake:jobs:SCRAPE_URL); and list names for queues.
std::string AllEventsChannel(const std::string& prefix);
std::string CategoryChannel(const std::string& prefix, const std::string& category);
std::string WakeChannel(const std::string& prefix, const std::string& name);
// The Redis list of a dispatch queue: "<prefix>:queue:<name>" (e.g. queue:jobs:SCRAPE_URL).
std::string QueueKey(const std::string& prefix, const std::string& name);

}  // namespace furrsight::events
