// furrsight projections status / run / rebuild / switch / drop: the read
// models, for operators.
#include <atomic>
#include <chrono>
#include <csignal>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "orchestrator/cli/commands.hpp"
#include "events/store/store_context.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "projections/rebuild.hpp"
#include "projections/registry.hpp"

namespace furrsight::orchestrator::cli {

using events::StoreContext;
namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

base::Result<const projections::Projection*> NamedProjection(const Invocation& inv) {
  if (inv.args.empty())
    return base::Fail(base::ErrorCode::kInvalidArgument, "name a projection; see 'furrsight projections status'");
  const auto* p = projections::FindProjection(inv.args[0]);
  if (p == nullptr) {
    std::string names;
    for (const auto& q : projections::AllProjections()) names += (names.empty() ? "" : ", ") + std::string(q->name());
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("no projection named '{}'; known: {}", inv.args[0], names));
  }
  return p;
}

base::Result<int> GenerationArg(const Invocation& inv) {
  if (inv.args.size() < 2)
    return base::Fail(base::ErrorCode::kInvalidArgument, "name the generation too, e.g. 'furrsight projections drop furrsight 1'");
  try {
    return std::stoi(inv.args[1]);
  } catch (const std::exception&) {
    return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("generation must be a number, not '{}'", inv.args[1]));
  }
}

}  // namespace

int RunProjectionsStatus(Invocation& inv) {
  StoreContext ctx(inv.config);
  pqxx::connection conn(AdminUrl(inv.config));
  auto generations = projections::ListGenerations(conn);
  if (!generations) return ReportError(generations.error());
  auto head = ctx.store->Head();
  if (!head) return ReportError(head.error());
  // Lag in seconds: how much older the last applied event is than the log's newest.
  double head_time = 0;
  {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params("SELECT extract(epoch FROM recorded_at) FROM events WHERE global_position = $1",
                            head->global_position);
    if (!r.empty()) head_time = r[0][0].as<double>();
  }
  fmt::print("{:<12} {:>4} {:>7} {:<9} {:>12} {:>11} {:>9} {:>10}  {}\n", "projection", "gen", "version", "state",
             "checkpoint", "lag events", "lag s", "applied", "last event at");
  for (const auto& g : *generations) {
    auto lag = ctx.store->CountAfter(g.checkpoint);
    double lag_s = 0;
    if (lag && *lag > 0) {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec_params("SELECT extract(epoch FROM last_event_at) FROM projection_generations "
                              "WHERE name = $1 AND generation = $2",
                              g.name, g.generation);
      lag_s = r[0][0].is_null() ? head_time : head_time - r[0][0].as<double>();
    }
    fmt::print("{:<12} {:>4} {:>7} {:<9} {:>12} {:>11} {:>9.1f} {:>10}  {}\n", g.name, g.generation, g.version,
               g.state, g.checkpoint.global_position, lag ? std::to_string(*lag) : "?", lag_s, g.events_applied,
               g.last_event_at.empty() ? "-" : g.last_event_at);
  }
  for (const auto& p : projections::AllProjections()) {
    bool live = false;
    for (const auto& g : *generations) live |= g.name == p->name() && g.state == "live";
    if (!live) fmt::print("{:<12} (no generation yet: 'furrsight projections run' creates one)\n", p->name());
    for (const auto& g : *generations)
      if (g.name == p->name() && g.state == "live" && g.version != p->version())
        fmt::print("{}: live generation {} was built by version {}, this furrsight has version {}: run "
                   "'furrsight projections rebuild {}'\n",
                   p->name(), g.generation, g.version, p->version(), p->name());
  }
  fmt::print("log head: position {}\n", head->global_position);
  return kExitOk;
}

int RunProjectionsRun(Invocation& inv) {
  std::signal(SIGINT, OnStop);
  std::signal(SIGTERM, OnStop);
  StoreContext ctx(inv.config);
  std::vector<const projections::Projection*> selected;
  if (inv.args.empty()) {
    for (const auto& p : projections::AllProjections()) selected.push_back(p.get());
  } else {
    auto p = NamedProjection(inv);
    if (!p) return ReportError(p.error());
    selected.push_back(*p);
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (const auto* p : selected)
    threads.emplace_back([&, p] {
      auto waker = ctx.MakeWaker(p->filter());
      projections::Projector projector(AdminUrl(inv.config), *ctx.store, waker.get(), *p,
                                       {.poll_interval = ctx.poll_interval()});
      if (auto ok = projector.Run(g_stop); !ok) {
        base::log::Error("projector stopped", {{"projection", std::string(p->name())}, {"error", ok.error().message}});
        ++failures;
        g_stop = true;
      }
    });
  for (auto& t : threads) t.join();
  return failures > 0 ? kExitFailure : kExitOk;
}

int RunProjectionsRebuild(Invocation& inv) {
  auto p = NamedProjection(inv);
  if (!p) return ReportError(p.error());
  StoreContext ctx(inv.config);
  pqxx::connection conn(AdminUrl(inv.config));
  projections::RebuildOptions options;
  std::optional<std::string> into = inv.Option("into");
  if (auto until = inv.Option("until")) {
    if (!into) {
      fmt::print(stderr, "furrsight: --until needs --into SCHEMA (a snapshot never replaces the live model)\n");
      return kExitUsage;
    }
    bool numeric = !until->empty() && std::all_of(until->begin(), until->end(), ::isdigit);
    if (numeric) {
      options.projector.until_position = std::stoll(*until);
    } else {
      pqxx::nontransaction tx(conn);
      try {
        options.projector.until_time_us =
            tx.exec_params("SELECT (extract(epoch FROM $1::timestamptz) * 1000000)::bigint", *until)[0][0].as<std::int64_t>();
      } catch (const std::exception&) {
        fmt::print(stderr, "furrsight: --until takes a log position (a number) or a time like 2026-11-22T10:00:00Z\n");
        return kExitUsage;
      }
    }
  } else if (into) {
    fmt::print(stderr, "furrsight: --into goes with --until (a snapshot of the past)\n");
    return kExitUsage;
  }
  options.into = into;
  options.switch_after = !inv.Flag("no-switch");
  auto built = projections::Rebuild(
      AdminUrl(inv.config), *ctx.store, **p, options,
      [&](const projections::Generation& g) {
        fmt::print(stderr, "building {} generation {} in schema {} ...\n", (*p)->name(), g.generation, g.schema);
      },
      [](const projections::RebuildProgress& pr) {
        fmt::print(stderr, "  {} events applied, {:.0f} events/s, {} to go, ETA {:.0f} s\n", pr.applied,
                   pr.events_per_second, pr.remaining, pr.remaining / std::max(pr.events_per_second, 1.0));
      });
  if (!built) return ReportError(built.error());
  fmt::print("{} events applied in {:.1f} s ({:.0f} events/s)\n", built->applied, built->seconds,
             built->applied / std::max(built->seconds, 1e-3));
  if (into) {
    fmt::print("snapshot ready: query schema {} (the live model is untouched)\n", built->generation.schema);
    return kExitOk;
  }
  if (!built->switched) {
    fmt::print("built; switch with 'furrsight projections switch {} {}'\n", (*p)->name(), built->generation.generation);
    return kExitOk;
  }
  fmt::print("switched: readers now see generation {}; the old one stays until 'furrsight projections drop'\n",
             built->generation.generation);
  return kExitOk;
}

int RunProjectionsSwitch(Invocation& inv) {
  auto p = NamedProjection(inv);
  if (!p) return ReportError(p.error());
  auto generation = GenerationArg(inv);
  if (!generation) return ReportError(generation.error());
  pqxx::connection conn(AdminUrl(inv.config));
  if (auto ok = projections::Switch(conn, **p, *generation); !ok) return ReportError(ok.error());
  fmt::print("switched {} to generation {}\n", (*p)->name(), *generation);
  return kExitOk;
}

int RunProjectionsDrop(Invocation& inv) {
  auto p = NamedProjection(inv);
  if (!p) return ReportError(p.error());
  auto generation = GenerationArg(inv);
  if (!generation) return ReportError(generation.error());
  pqxx::connection conn(AdminUrl(inv.config));
  if (auto ok = projections::DropGeneration(conn, (*p)->name(), *generation); !ok) return ReportError(ok.error());
  fmt::print("dropped {} generation {}\n", (*p)->name(), *generation);
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
