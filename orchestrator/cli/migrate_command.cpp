#include <fmt/format.h>

#include "events/base/log.hpp"
#include "events/store/migrator.hpp"
#include "orchestrator/cli/commands.hpp"

namespace furrsight::orchestrator::cli {

namespace {

base::Result<std::vector<events::Migration>> SelectedMigrations(const base::Config& config) {
  const std::string& dir = config.Get("migrations_dir");
  if (dir.empty()) return events::BuiltInMigrations();
  return events::LoadMigrations(dir);
}

}  // namespace

int RunMigrate(Invocation& inv) {
  auto migrations = SelectedMigrations(inv.config);
  if (!migrations) return ReportError(migrations.error());
  events::Migrator migrator(AdminUrl(inv.config), std::move(*migrations));

  if (inv.Flag("status")) {
    auto status = migrator.Status();
    if (!status) return ReportError(status.error());
    int pending = 0;
    for (const auto& m : *status) {
      fmt::print("{:<8} {:<40} {}\n", m.applied ? "applied" : "pending", m.name, m.applied_at);
      pending += m.applied ? 0 : 1;
    }
    fmt::print("{} applied, {} pending\n", status->size() - pending, pending);
    return kExitOk;
  }
  auto applied = migrator.Apply([](const std::string& name) {
    base::log::Info("migration applied", {{"name", name}});
  });
  if (!applied) return ReportError(applied.error());
  fmt::print("{} migration(s) applied; the schema is up to date\n", applied->size());
  return kExitOk;
}

int RunConfig(Invocation& inv) {
  for (const auto& line : inv.config.Describe()) fmt::print("{}\n", line);
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
