#include "orchestrator/embedded/s3rver_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/embedded/postgres_server.hpp"

#ifndef FURRSIGHT_SOURCE_DIR
#define FURRSIGHT_SOURCE_DIR ""
#endif

namespace furrsight::orchestrator {
namespace {

namespace fs = std::filesystem;
using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kScriptInTree = "scripts/node/node_modules/s3rver/bin/s3rver.js";
inline constexpr std::chrono::seconds kStartTimeout{30};

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::optional<fs::path> FindOnPath(std::string_view program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    std::size_t colon = dirs.find(':');
    fs::path candidate = fs::path(std::string(dirs.substr(0, colon))) / std::string(program);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

}  // namespace

base::Result<std::vector<std::string>> S3rverCommand() {
  auto node = FindOnPath("node");
  if (!node)
    return Fail(ErrorCode::kFailedPrecondition,
                "the test harness needs Node.js ('node' is not on PATH) to run s3rver, its S3 server: "
                "run scripts/install-deps.sh");
  fs::path script;
  if (const char* env = std::getenv("FURRSIGHT_S3RVER"); env != nullptr && *env != '\0') {
    script = env;
  } else {
    script = fs::path(FURRSIGHT_SOURCE_DIR) / std::string(kScriptInTree);
  }
  std::error_code ec;
  if (!fs::is_regular_file(script, ec))
    return Fail(ErrorCode::kFailedPrecondition,
                fmt::format("the test harness needs s3rver, its S3 server, and it is not at {}: run "
                            "scripts/install-deps.sh (or point FURRSIGHT_S3RVER at s3rver's bin/s3rver.js)",
                            script.string()));
  return std::vector<std::string>{node->string(), script.string()};
}

base::Result<std::unique_ptr<S3rverServer>> S3rverServer::Start(const fs::path& dir, int port) {
  auto command = S3rverCommand();
  if (!command) return std::unexpected(command.error());
  std::error_code ec;
  fs::create_directories(dir / "data", ec);
  if (ec) return Fail(ErrorCode::kFailedPrecondition, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (port == 0) {
    auto free = PickFreePort();
    if (!free) return std::unexpected(free.error());
    port = *free;
  }
  std::vector<std::string> argv = *command;
  argv.insert(argv.end(), {"--directory", (dir / "data").string(), "--address", "127.0.0.1", "--port",
                           std::to_string(port), "--silent", "--no-vhost-buckets", "--configure-bucket",
                           std::string(kBucket)});
  const fs::path log_file = dir / "s3rver.log";
  auto child = ChildProcess::Spawn({.argv = argv, .parent_death_signal = SIGTERM, .output_file = log_file});
  if (!child) return std::unexpected(child.error());
  std::unique_ptr<S3rverServer> server(new S3rverServer(port, std::move(*child)));
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Accepts(port)) {
      base::log::Info("s3rver ready", {{"port", port}});
      return server;
    }
    if (!server->child_->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server->Stop();
  return Fail(ErrorCode::kUnavailable, fmt::format("s3rver did not start on port {}; its log {}:\n{}", port,
                                                   log_file.string(), TailOfFile(log_file, 10)));
}

S3rverServer::~S3rverServer() { Stop(); }

std::string S3rverServer::Endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }

void S3rverServer::Stop() {
  if (!child_) return;
  child_->Stop(SIGTERM, std::chrono::seconds(10));
  child_.reset();
}

}  // namespace furrsight::orchestrator
