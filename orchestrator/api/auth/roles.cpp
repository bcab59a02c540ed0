#include "orchestrator/api/auth/roles.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "events/base/text.hpp"

namespace furrsight::api::auth {

bool IsKnownRole(std::string_view role) {
  return std::find(kKnownRoles.begin(), kKnownRoles.end(), role) != kKnownRoles.end();
}

std::vector<std::string> KnownRolesAmong(const std::vector<std::string>& roles) {
  std::vector<std::string> out;
  for (std::string_view known : kKnownRoles)
    if (std::find(roles.begin(), roles.end(), known) != roles.end()) out.emplace_back(known);
  return out;
}

base::Result<std::vector<std::string>> ParseRoleList(std::string_view list) {
  std::vector<std::string> given;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string role = base::Lower(base::Trim(list.substr(0, comma)));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (role.empty()) continue;
    if (!IsKnownRole(role))
      return base::Fail(base::ErrorCode::kInvalidArgument,
                        fmt::format("unknown role '{}': the roles are researcher, auditor, operator and admin", role));
    given.push_back(std::move(role));
  }
  if (given.empty())
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      "no role given: name at least one of researcher, auditor, operator, admin (comma-separated)");
  return KnownRolesAmong(given);
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

}  // namespace furrsight::api::auth
