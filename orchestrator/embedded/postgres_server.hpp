// PostgresServer: a PostgreSQL 15 cluster FurrSight runs itself, on a
// loopback port, in a directory of its own: the embedded default of
// `furrsight dev` and the throwaway cluster of the test harness.
//
// As root, initdb and postgres run as the `postgres` user (PostgreSQL refuses
// root). The server is a child of this process and stops when it does (fast
// shutdown), so none is left behind. A cluster already running in `dir` (from
// another furrsight process) is reused and left running on destruction.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "events/base/error.hpp"
#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator {

struct PostgresOptions {
  std::filesystem::path dir;  // holds pgdata/ and postgres.log
  int port = 0;               // 0: a free port
  bool ephemeral = false;     // tests: fsync off (fast, not crash-safe)
  std::filesystem::path bindir = "/usr/lib/postgresql/15/bin";
};

class PostgresServer {
 public:
  static base::Result<std::unique_ptr<PostgresServer>> Start(const PostgresOptions& options);
  ~PostgresServer();

  int port() const { return port_; }
  bool owned() const { return child_.has_value(); }
  // postgresql://USER@127.0.0.1:PORT/DATABASE (trust authentication on loopback)
  std::string Url(std::string_view database, std::string_view user = "postgres") const;
  // Fast shutdown of a server this object started; a reused one is left alone.
  void Stop();

 private:
  PostgresServer(int port, std::optional<ChildProcess> child, std::filesystem::path log)
      : port_(port), child_(std::move(child)), log_(std::move(log)) {}
  int port_;
  std::optional<ChildProcess> child_;
  std::filesystem::path log_;
};

// Blocks until a libpq connection to `url` succeeds, up to `timeout`.
base::Result<void> WaitForPostgres(const std::string& url, std::chrono::milliseconds timeout,
                                   ChildProcess* server = nullptr);

// The last lines of a log file, for error messages.
std::string TailOfFile(const std::filesystem::path& path, int lines);

}  // namespace furrsight::orchestrator
