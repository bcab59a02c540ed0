// Principal: who is making a request, as established by an Authenticator.
// A plain value; copy it freely. Thread-safe to read from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace furrsight::api {

inline constexpr std::string_view kAdminRole = "admin";

struct Principal {
  std::string subject;             // stable id: the JWT "sub" or "apikey-<id>"
  std::vector<std::string> roles;  // researcher, auditor, operator, admin
  std::string via;                 // "jwt" | "api_key"
  std::string display_name;
  std::string email;
  std::string actor;               // in event metadata: "user:<id>" | "apikey:<key_id>"; "" lets ActorOf derive it

  // True if the principal holds `role`; "admin" holds every role.
  bool HasRole(std::string_view role) const;
};

}  // namespace furrsight::api
