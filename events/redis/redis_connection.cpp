#include "events/redis/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <cstdarg>
#include <regex>

#include <fmt/format.h>

namespace furrsight::events {
namespace {

using base::ErrorCode;
using base::Fail;

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

base::Result<RedisAddress> ParseRedisUrl(const std::string& url) {
  static const std::regex kUrl(R"(^redis://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/]+)(?::(\d+))?(?:/(\d+))?/?$)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("redis_url '{}' is not redis://[:password@]host[:port][/db]", url));
  RedisAddress a;
  a.password = m[2].str();
  a.host = m[3].str();
  if (m[4].matched) a.port = std::stoi(m[4].str());
  if (m[5].matched) a.db = std::stoi(m[5].str());
  return a;
}

void RedisConnection::ReplyDeleter::operator()(redisReply* r) const {
  if (r != nullptr) freeReplyObject(r);
}

base::Result<RedisConnection> RedisConnection::Connect(const RedisAddress& address, std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds command_timeout) {
  redisContext* ctx = redisConnectWithTimeout(address.host.c_str(), address.port, ToTimeval(timeout));
  if (ctx == nullptr) return Fail(ErrorCode::kUnavailable, "redis: out of memory");
  RedisConnection conn(ctx);
  if (ctx->err != 0)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot connect to Redis at {}:{}: {}", address.host, address.port, ctx->errstr));
  redisSetTimeout(ctx, ToTimeval(command_timeout));
  if (!address.password.empty()) {
    auto r = conn.Command("AUTH %s", address.password.c_str());
    if (!r) return std::unexpected(r.error());
  }
  if (address.db != 0) {
    auto r = conn.Command("SELECT %d", address.db);
    if (!r) return std::unexpected(r.error());
  }
  return conn;
}

RedisConnection::RedisConnection(RedisConnection&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }

RedisConnection& RedisConnection::operator=(RedisConnection&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}

RedisConnection::~RedisConnection() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

bool RedisConnection::ok() const { return ctx_ != nullptr && ctx_->err == 0; }

base::Result<RedisConnection::Reply> RedisConnection::Command(const char* format, ...) {
  if (!ok()) return Fail(ErrorCode::kUnavailable, "redis: connection is closed");
  va_list ap;
  va_start(ap, format);
  auto* reply = static_cast<redisReply*>(redisvCommand(ctx_, format, ap));
  va_end(ap);
  if (reply == nullptr) return Fail(ErrorCode::kUnavailable, fmt::format("redis: {}", ctx_->errstr));
  Reply owned(reply);
  if (reply->type == REDIS_REPLY_ERROR)
    return Fail(ErrorCode::kFailedPrecondition, fmt::format("redis: {}", std::string(reply->str, reply->len)));
  return owned;
}

std::string AllEventsChannel(const std::string& prefix) { return prefix + ":events"; }
std::string CategoryChannel(const std::string& prefix, const std::string& category) {
  return prefix + ":events:" + category;
}
std::string WakeChannel(const std::string& prefix, const std::string& name) { return prefix + ":wake:" + name; }
std::string QueueKey(const std::string& prefix, const std::string& name) { return prefix + ":queue:" + name; }

}  // namespace furrsight::events
