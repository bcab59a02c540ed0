// Helpers every command shares (declared in commands.hpp).
#include "orchestrator/cli/commands.hpp"

#include <fmt/format.h>

namespace furrsight::orchestrator::cli {

int ReportError(const base::Error& error) {
  fmt::print(stderr, "furrsight: {}\n", error.message);
  return kExitFailure;
}

std::string AdminUrl(const base::Config& config) {
  const std::string& admin = config.Get("admin_database_url");
  return admin.empty() ? config.Get("database_url") : admin;
}

}  // namespace furrsight::orchestrator::cli
