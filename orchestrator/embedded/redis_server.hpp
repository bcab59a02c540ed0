// RedisServer: a redis-server FurrSight runs itself on a loopback port, for
// `furrsight dev` and the test harness. It keeps nothing on disk (Redis is an
// accelerator; PostgreSQL holds the truth). Stops with the process that
// started it. Tests stop and start it again on the same port to prove that
// FurrSight survives a lost Redis.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "events/base/error.hpp"
#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator {

class RedisServer {
 public:
  // `port` 0 picks a free one.
  static base::Result<std::unique_ptr<RedisServer>> Start(const std::filesystem::path& dir, int port = 0);
  ~RedisServer();

  int port() const { return port_; }
  std::string Url() const;  // redis://127.0.0.1:PORT/0
  bool running() const { return child_.has_value(); }

  void Stop();
  base::Result<void> Restart();  // start again on the same port

 private:
  RedisServer(std::filesystem::path dir, int port) : dir_(std::move(dir)), port_(port) {}
  base::Result<void> Launch();
  std::filesystem::path dir_;
  int port_;
  std::optional<ChildProcess> child_;
};

}  // namespace furrsight::orchestrator
