#include "orchestrator/embedded/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <thread>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/embedded/postgres_server.hpp"

namespace furrsight::orchestrator {
namespace {

using base::ErrorCode;
using base::Fail;

bool Pings(int port) {
  timeval tv{0, 200000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  bool ok = false;
  if (c != nullptr && c->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (c != nullptr) redisFree(c);
  return ok;
}

}  // namespace

base::Result<std::unique_ptr<RedisServer>> RedisServer::Start(const std::filesystem::path& dir, int port) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kFailedPrecondition, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (port == 0) {
    auto free = PickFreePort();
    if (!free) return std::unexpected(free.error());
    port = *free;
  }
  std::unique_ptr<RedisServer> server(new RedisServer(dir, port));
  if (auto ok = server->Launch(); !ok) return std::unexpected(ok.error());
  return server;
}

base::Result<void> RedisServer::Launch() {
  const auto log_file = dir_ / "redis.log";
  auto child = ChildProcess::Spawn({.argv = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                             "--dir", dir_.string(), "--save", "", "--appendonly", "no",
                                             "--daemonize", "no", "--protected-mode", "no"},
                                    .parent_death_signal = SIGTERM,
                                    .output_file = log_file});
  if (!child) return std::unexpected(child.error());
  child_ = std::move(*child);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Pings(port_)) {
      base::log::Info("Redis ready", {{"port", port_}});
      return {};
    }
    if (!child_->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child_.reset();
  return Fail(ErrorCode::kUnavailable, fmt::format("redis-server did not start on port {}; its log {}:\n{}", port_,
                                                   log_file.string(), TailOfFile(log_file, 10)));
}

RedisServer::~RedisServer() { Stop(); }

std::string RedisServer::Url() const { return fmt::format("redis://127.0.0.1:{}/0", port_); }

void RedisServer::Stop() {
  if (!child_) return;
  child_->Stop(SIGTERM, std::chrono::seconds(10));
  child_.reset();
}

base::Result<void> RedisServer::Restart() {
  Stop();
  return Launch();
}

}  // namespace furrsight::orchestrator
