// Principal: who made a request, as the authenticator established it. A
// plain value; the HTTP layer checks `roles` against each route's rule and
// puts `actor` in the metadata of every event the request appends.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace furrsight::api::auth {

struct Principal {
  std::string subject;             // JWT: the IdP's "sub"; API key: its key id
  std::vector<std::string> roles;  // known roles only (researcher, auditor, operator, admin)
  std::string via;                 // "jwt" | "api_key"
  std::string display_name;        // JWT: name / preferred_username; API key: its name
  std::string email;               // JWT only
  std::string actor;               // for event metadata: "user:<uuid>" or "apikey:<key_id>"

  bool HasRole(std::string_view role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }
};

}  // namespace furrsight::api::auth
