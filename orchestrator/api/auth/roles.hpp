// Roles: the four FurrSight roles a principal may hold, and the helpers that
// turn a claim or a --roles list into a clean set of them. Stateless;
// thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::api::auth {

inline constexpr std::array<std::string_view, 4> kKnownRoles = {"researcher", "auditor", "operator", "admin"};

bool IsKnownRole(std::string_view role);

// The known roles among `roles`, in kKnownRoles order, without duplicates
// (unknown ones are dropped: an IdP's other roles mean nothing here).
std::vector<std::string> KnownRolesAmong(const std::vector<std::string>& roles);

// "researcher,admin" -> {"researcher", "admin"} (kKnownRoles order). Every
// entry must be known and the list non-empty: kInvalidArgument otherwise.
base::Result<std::vector<std::string>> ParseRoleList(std::string_view list);

// {"researcher", "admin"} -> "researcher,admin"
std::string JoinRoles(const std::vector<std::string>& roles);

}  // namespace furrsight::api::auth
