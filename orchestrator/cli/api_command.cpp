// furrsight api: the REST API server (docs/api.md) until SIGINT/SIGTERM, then
// a graceful stop (in-flight requests finish, event streams close).
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/api/api_server.hpp"
#include "orchestrator/cli/commands.hpp"

namespace furrsight::orchestrator::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

}  // namespace

int RunApi(Invocation& inv) {
  std::signal(SIGINT, OnStop);
  std::signal(SIGTERM, OnStop);
  std::map<std::string, std::string> overrides;
  if (auto port = inv.Option("port")) overrides["api_port"] = *port;
  const auto config = inv.config.Overridden(overrides);
  auto server = api::ApiServer::Start(config);
  if (!server) return ReportError(server.error());
  // The line scripts and tests look for (with --port 0 it names the port).
  fmt::print("furrsight api listening on http://{}:{}\n", config.Get("api_address"), (*server)->port());
  std::fflush(stdout);
  base::log::Info("api listening", {{"address", config.Get("api_address")}, {"port", (*server)->port()}});
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  base::log::Info("api stopping");
  (*server)->Stop();
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
