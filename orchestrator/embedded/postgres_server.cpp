#include "orchestrator/embedded/postgres_server.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "events/base/log.hpp"

namespace furrsight::orchestrator {
namespace {

namespace fs = std::filesystem;
using base::ErrorCode;
using base::Fail;
namespace log = base::log;

constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopGrace = std::chrono::seconds(30);
constexpr int kMaxConnections = 300;

std::optional<std::string> ServiceUser() {
  if (geteuid() != 0) return std::nullopt;
  return std::string("postgres");
}

base::Result<void> PrepareDir(const fs::path& dir, const std::optional<std::string>& user) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail(ErrorCode::kFailedPrecondition, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  // The server user must be able to reach the directory.
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec, ec);
  if (user) {
    const passwd* pw = getpwnam(user->c_str());
    if (pw == nullptr)
      return Fail(ErrorCode::kFailedPrecondition,
                  "running as root needs the 'postgres' user to run PostgreSQL: install postgresql-15 "
                  "(scripts/install-deps.sh)");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      return Fail(ErrorCode::kFailedPrecondition, fmt::format("cannot give {} to user postgres", dir.string()));
  }
  return {};
}

// Port of a postmaster already running in `pgdata`, if any.
std::optional<int> RunningPort(const fs::path& pgdata) {
  std::ifstream in(pgdata / "postmaster.pid");
  if (!in) return std::nullopt;
  std::string pid_line, dir_line, start_line, port_line;
  if (!std::getline(in, pid_line) || !std::getline(in, dir_line) || !std::getline(in, start_line) ||
      !std::getline(in, port_line))
    return std::nullopt;
  pid_t pid = static_cast<pid_t>(std::stol(pid_line));
  if (pid <= 0 || ::kill(pid, 0) != 0) return std::nullopt;
  return std::stoi(port_line);
}

}  // namespace

std::string TailOfFile(const fs::path& path, int lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "  | " + l + "\n";
  return out;
}

base::Result<void> WaitForPostgres(const std::string& url, std::chrono::milliseconds timeout, ChildProcess* server) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(url.c_str()) == PQPING_OK) return {};
    if (server != nullptr && !server->Running())
      return Fail(ErrorCode::kUnavailable, "PostgreSQL exited during start-up");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Fail(ErrorCode::kTimeout, "PostgreSQL did not accept connections in time");
}

base::Result<std::unique_ptr<PostgresServer>> PostgresServer::Start(const PostgresOptions& o) {
  const auto user = ServiceUser();
  const fs::path pgdata = o.dir / "pgdata";
  const fs::path log_file = o.dir / "postgres.log";
  if (auto ok = PrepareDir(o.dir, user); !ok) return std::unexpected(ok.error());

  if (auto port = RunningPort(pgdata)) {
    log::Info("reusing running PostgreSQL", {{"dir", o.dir.string()}, {"port", *port}});
    return std::unique_ptr<PostgresServer>(new PostgresServer(*port, std::nullopt, log_file));
  }

  if (!fs::exists(pgdata / "PG_VERSION")) {
    log::Info("initialising PostgreSQL cluster", {{"dir", pgdata.string()}});
    std::vector<std::string> argv = {(o.bindir / "initdb").string(), "-D", pgdata.string(), "-U", "postgres",
                                     "-A", "trust", "-E", "UTF8", "--locale=C"};
    if (o.ephemeral) argv.push_back("--no-sync");
    auto initdb = ChildProcess::Spawn({.argv = argv, .run_as_user = user, .output_file = log_file});
    if (!initdb) return std::unexpected(initdb.error());
    if (int code = initdb->Wait().value_or(255); code != 0)
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("initdb failed (exit {}); its log {}:\n{}", code, log_file.string(), TailOfFile(log_file, 15)));
  }

  int port = o.port;
  if (port == 0) {
    auto free = PickFreePort();
    if (!free) return std::unexpected(free.error());
    port = *free;
  }
  std::vector<std::string> argv = {(o.bindir / "postgres").string(), "-D", pgdata.string(), "-p", std::to_string(port),
                                   "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                                   "-c", fmt::format("max_connections={}", kMaxConnections)};
  if (o.ephemeral) {
    for (const char* setting : {"fsync=off", "full_page_writes=off"}) {
      argv.push_back("-c");
      argv.push_back(setting);
    }
  }
  // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data is safe.
  auto child = ChildProcess::Spawn(
      {.argv = argv, .run_as_user = user, .parent_death_signal = SIGINT, .output_file = log_file});
  if (!child) return std::unexpected(child.error());

  std::unique_ptr<PostgresServer> server(new PostgresServer(port, std::move(*child), log_file));
  if (auto ready = WaitForPostgres(server->Url("postgres"), kStartTimeout, &*server->child_); !ready)
    return Fail(ready.error().code, fmt::format("{} on port {}; its log {}:\n{}", ready.error().message, port,
                                                log_file.string(), TailOfFile(log_file, 15)));
  log::Info("PostgreSQL ready", {{"port", port}, {"dir", o.dir.string()}});
  return server;
}

PostgresServer::~PostgresServer() { Stop(); }

std::string PostgresServer::Url(std::string_view database, std::string_view user) const {
  return fmt::format("postgresql://{}@127.0.0.1:{}/{}", user, port_, database);
}

void PostgresServer::Stop() {
  if (!child_) return;
  child_->Stop(SIGINT, kStopGrace);
  child_.reset();
}

}  // namespace furrsight::orchestrator
