#include "orchestrator/api/http/principal.hpp"

#include <algorithm>

namespace furrsight::api {

bool Principal::HasRole(std::string_view role) const {
  return std::any_of(roles.begin(), roles.end(),
                     [&](const std::string& held) { return held == role || held == kAdminRole; });
}

}  // namespace furrsight::api
