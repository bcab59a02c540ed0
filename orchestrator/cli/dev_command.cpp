// furrsight dev: everything on one machine, under a project-local data
// directory kept between runs (--fresh starts over).
#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "orchestrator/cli/commands.hpp"
#include "events/store/audit_seal.hpp"
#include "orchestrator/cli/dev_api.hpp"
#include "orchestrator/cli/dev_main_job.hpp"
#include "events/store/store_context.hpp"
#include "orchestrator/embedded/embedded_stack.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "projections/rebuild.hpp"
#include "projections/registry.hpp"

namespace furrsight::orchestrator::cli {

using events::StoreContext;
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
      "  environment   source {} (while dev runs) to point other furrsight commands here\n",
      elapsed, alive->postgres_version, s.ServiceUrl(), alive->events, s.redis().Url(), alive->redis, s.AdminUrl(),
      (data_dir / "env").string());

  // The read models and the audit seal, caught up once.
  auto config = inv.config.Overridden(
      {{"database_url", s.ServiceUrl()}, {"admin_database_url", s.AdminUrl()}, {"redis_url", s.redis().Url()}});
  StoreContext ctx(config);
  auto catch_up = [&]() -> base::Result<void> {
    for (const auto& p : projections::AllProjections()) {
      pqxx::connection conn(s.AdminUrl());
      auto live = projections::EnsureLive(conn, *p);
      if (!live) return std::unexpected(live.error());
      if (live->version != p->version()) {
        // Built by an older furrsight: rebuild with this one's schema and switch.
        fmt::print("  read model    {} generation {} was built by version {}; rebuilding as version {} ...\n",
                   p->name(), live->generation, live->version, p->version());
        auto rebuilt = projections::Rebuild(s.AdminUrl(), *ctx.store, *p, {});
        if (!rebuilt) return std::unexpected(rebuilt.error());
        live = rebuilt->generation;
      }
      projections::Projector projector(s.AdminUrl(), *ctx.store, nullptr, *p);
      auto applied = projector.CatchUp(live->generation);
      if (!applied) return std::unexpected(applied.error());
      fmt::print("  read model    {} generation {} current ({} events applied now)\n", p->name(), live->generation,
                 *applied);
    }
    return {};
  };
  bool key_created = false;
  auto admin_key = DevAdminKey(*ctx.store, data_dir, key_created);
  if (!admin_key) return ReportError(admin_key.error());
  if (auto ok = catch_up(); !ok) return ReportError(ok.error());
  events::AuditLog audit(*ctx.pool);
  auto seal = [&]() -> base::Result<void> {
    if (auto sealed = audit.SealPending(); !sealed) return std::unexpected(sealed.error());
    auto head = audit.Head();
    if (!head) return std::unexpected(head.error());
    fmt::print("  audit seal    {} events sealed, head {}\n", head->sealed, head->head_hash.empty() ? "-" : head->head_hash);
    return {};
  };
  if (auto ok = seal(); !ok) return ReportError(ok.error());

  // The main job: the sample site scraped, validated and paired by real worker processes.
  std::unique_ptr<DevMainJob> main_job;
  if (!inv.Flag("stack-only")) {
    auto started_job = DevMainJob::Start(config, data_dir);
    if (!started_job) return ReportError(started_job.error());
    main_job = std::move(*started_job);
    if (auto ok = main_job->RunOnce(*ctx.store); !ok) return ReportError(ok.error());
    fmt::print("\nread models and audit seal after the main job:\n");
    if (auto ok = catch_up(); !ok) return ReportError(ok.error());
    if (auto ok = seal(); !ok) return ReportError(ok.error());
  }

  // The REST API, checked with one request through it.
  auto dev_api = StartDevApi(config, *admin_key);
  if (!dev_api) return ReportError(dev_api.error());
  fmt::print("\nREST API        {}  ({} pairs on the first page of GET /api/v1/pairs)\n"
             "  admin key     {} ({}; kept in {})\n"
             "  try           curl -H 'X-API-Key: {}' '{}/api/v1/pairs?limit=5'\n"
             "  reference     docs/api.md, {}/api/v1/openapi.json\n"
             "curation page   {}/ui/  (sign in with the admin key; docs/curation-page.md)\n",
             dev_api->url, dev_api->pairs_seen, *admin_key, key_created ? "issued now" : "from an earlier run",
             (data_dir / "admin-api-key").string(), *admin_key, dev_api->url, dev_api->url, dev_api->url);

  if (inv.Flag("once")) {
    fmt::print("\n--once: PostgreSQL and Redis stop now (their data stays in {}). To keep them up, run\n"
               "  build/bin/furrsight dev\nand in another shell: source {}\n",
               data_dir.string(), (data_dir / "env").string());
    return kExitOk;
  }
  fmt::print("\nRunning the API, projectors, the audit sealer{}; press Ctrl-C to stop.\n",
             main_job ? fmt::format(", the scheduler, a worker and the sample site ({})", main_job->site_url()) : "");
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  std::atomic<bool> stop{false};
  std::vector<std::thread> projectors;
  for (const auto& p : projections::AllProjections())
    projectors.emplace_back([&, proj = p.get()] {
      auto waker = ctx.MakeWaker(proj->filter());
      projections::Projector projector(s.AdminUrl(), *ctx.store, waker.get(), *proj, {.poll_interval = ctx.poll_interval()});
      if (auto ok = projector.Run(stop); !ok) base::log::Error("projector stopped", {{"error", ok.error().message}});
    });
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (auto n = audit.SealPending(); !n) base::log::Warn("audit seal failed", {{"error", n.error().message}});
  }
  dev_api->server->Stop();
  stop = true;
  for (auto& t : projectors) t.join();
  fmt::print("stopping ...\n");
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
