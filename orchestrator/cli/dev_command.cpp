// furrsight dev: everything on one machine, under a project-local data
// directory kept between runs (--fresh starts over).
#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "orchestrator/cli/commands.hpp"
#include "orchestrator/embedded/embedded_stack.hpp"

namespace furrsight::orchestrator::cli {
namespace {

namespace fs = std::filesystem;

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// Ports used last time, so URLs stay the same between runs when possible.
std::pair<int, int> RememberedPorts(const fs::path& file) {
  std::ifstream in(file);
  int pg = 0, redis = 0;
  in >> pg >> redis;
  return {pg > 0 && PortIsFree(pg) ? pg : 0, redis > 0 && PortIsFree(redis) ? redis : 0};
}

struct Liveness {
  std::string postgres_version;
  long long events = 0;
  std::string redis;
};

base::Result<Liveness> CheckAlive(EmbeddedStack& stack) {
  Liveness out;
  try {
    pqxx::connection conn(stack.ServiceUrl());
    pqxx::read_transaction tx(conn);
    out.postgres_version = tx.exec("SHOW server_version")[0][0].as<std::string>();
    out.events = tx.exec("SELECT count(*) FROM events")[0][0].as<long long>();
  } catch (const std::exception& e) {
    return base::Fail(base::ErrorCode::kUnavailable, fmt::format("PostgreSQL check failed: {}", e.what()));
  }
  redisContext* c = redisConnect("127.0.0.1", stack.redis().port());
  auto* reply = c != nullptr && c->err == 0 ? static_cast<redisReply*>(redisCommand(c, "PING")) : nullptr;
  out.redis = reply != nullptr && reply->type == REDIS_REPLY_STATUS ? reply->str : "unreachable";
  if (reply != nullptr) freeReplyObject(reply);
  if (c != nullptr) redisFree(c);
  return out;
}

}  // namespace

int RunDev(Invocation& inv) {
  auto started = std::chrono::steady_clock::now();
  const fs::path data_dir = fs::absolute(inv.config.Get("data_dir"));
  if (inv.Flag("fresh")) {
    fmt::print("--fresh: removing {}\n", data_dir.string());
    std::error_code ec;
    fs::remove_all(data_dir, ec);
  }
  fs::create_directories(data_dir);
  auto [pg_port, redis_port] = RememberedPorts(data_dir / "ports");

  fmt::print("starting PostgreSQL and Redis under {} ...\n", data_dir.string());
  auto stack = EmbeddedStack::Start(
      {.dir = data_dir, .database = "furrsight", .postgres_port = pg_port, .redis_port = redis_port});
  if (!stack) return ReportError(stack.error());
  EmbeddedStack& s = **stack;
  std::ofstream(data_dir / "ports") << s.postgres().port() << ' ' << s.redis().port() << '\n';
  std::ofstream(data_dir / "env") << fmt::format(
      "export FURRSIGHT_DATABASE_URL={}\nexport FURRSIGHT_ADMIN_DATABASE_URL={}\nexport FURRSIGHT_REDIS_URL={}\n",
      s.ServiceUrl(), s.AdminUrl(), s.redis().Url());

  auto alive = CheckAlive(s);
  if (!alive) return ReportError(alive.error());
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(
      "\nFurrSight is alive ({:.1f} s)\n"
      "  PostgreSQL {}  {}   (service role; {} events in the log)\n"
      "  Redis         {}   (PING: {})\n"
      "  schema        migrated (furrsight migrate --status --admin-database-url {})\n"
      "  environment   source {} to point other furrsight commands at this instance\n",
      elapsed, alive->postgres_version, s.ServiceUrl(), alive->events, s.redis().Url(), alive->redis, s.AdminUrl(),
      (data_dir / "env").string());

  if (inv.Flag("once")) return kExitOk;
  fmt::print("\nRunning; press Ctrl-C to stop.\n");
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  fmt::print("stopping ...\n");
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
