// furrsight apikeys issue / revoke / list (docs/auth.md).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "events/store/store_context.hpp"
#include "orchestrator/api/auth/api_key_directory.hpp"
#include "orchestrator/api/auth/api_key_service.hpp"
#include "orchestrator/api/auth/roles.hpp"
#include "orchestrator/cli/commands.hpp"

namespace furrsight::orchestrator::cli {
namespace {

namespace auth = furrsight::api::auth;

events::EventMetadata CliMetadata() {
  const char* user = std::getenv("USER");
  const std::string id = base::NewUuid();
  return {fmt::format("cli:{}", user != nullptr ? user : "unknown"), id, id, "cli"};
}

// "90d", "12h", "30m" -> seconds; nullopt for anything else.
std::optional<std::chrono::seconds> ParseLifetime(std::string_view text) {
  if (text.size() < 2 || text.size() > 7) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n <= 0) return std::nullopt;
  switch (text.back()) {
    case 'd': return std::chrono::seconds(n * 86400);
    case 'h': return std::chrono::seconds(n * 3600);
    case 'm': return std::chrono::seconds(n * 60);
    default: return std::nullopt;
  }
}

std::string StateOf(const auth::ApiKeyRecord& k) {
  if (k.revoked) return "revoked";
  if (k.expires_at_us == 0) return "active";
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return now_us >= k.expires_at_us ? "expired" : "active";
}

}  // namespace

int RunApiKeysIssue(Invocation& inv) {
  auto name = inv.Option("name");
  auto roles = auth::ParseRoleList(inv.Option("roles").value_or(""));
  if (!name || name->empty() || !roles) {
    fmt::print(stderr, "furrsight: apikeys issue needs --name and --roles, e.g.\n"
                       "  furrsight apikeys issue --name 'nightly export' --roles researcher,auditor\n{}",
               roles ? "" : "(" + roles.error().message + ")\n");
    return kExitUsage;
  }
  std::int64_t expires_at_us = 0;
  if (auto text = inv.Option("expires-in")) {
    auto lifetime = ParseLifetime(*text);
    if (!lifetime) {
      fmt::print(stderr, "furrsight: --expires-in '{}' is not a duration like 90d, 12h or 30m\n", *text);
      return kExitUsage;
    }
    expires_at_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        (std::chrono::system_clock::now() + *lifetime).time_since_epoch())
                        .count();
  }
  events::StoreContext ctx(inv.config);
  auth::ApiKeyService service(*ctx.store);
  auto issued = service.Issue({*name, *roles, inv.Option("user").value_or(""), expires_at_us}, CliMetadata());
  if (!issued) return ReportError(issued.error());
  fmt::print("API key {} issued (roles {}{}). It is shown only this once; keep it in a secret store:\n\n  {}\n\n",
             issued->key_id, auth::JoinRoles(issued->roles),
             expires_at_us == 0 ? "" : fmt::format("; expires in {}", *inv.Option("expires-in")), issued->key);
  fmt::print("Use it as:\n  curl -H 'X-API-Key: {}' http://localhost:8080/api/v1/pairs\n", issued->key);
  fmt::print("Revoke it with: furrsight apikeys revoke {}\n", issued->key_id);
  return kExitOk;
}

int RunApiKeysRevoke(Invocation& inv) {
  if (inv.args.size() != 1) {
    fmt::print(stderr, "furrsight: apikeys revoke needs one KEY_ID (see 'furrsight apikeys list'), e.g.\n"
                       "  furrsight apikeys revoke 3f2a9c0d1e4b5a6f --reason leaked\n");
    return kExitUsage;
  }
  events::StoreContext ctx(inv.config);
  auth::ApiKeyService service(*ctx.store);
  auto revoked = service.Revoke(inv.args[0], inv.Option("reason").value_or(""), CliMetadata());
  if (!revoked) return ReportError(revoked.error());
  fmt::print("API key {} revoked; API servers refuse it within a few seconds (their key cache's TTL).\n", inv.args[0]);
  return kExitOk;
}

int RunApiKeysList(Invocation& inv) {
  events::StoreContext ctx(inv.config);
  auth::PgApiKeyDirectory directory(*ctx.pool);
  auto keys = directory.List();
  if (!keys) return ReportError(keys.error());
  fmt::print("{:<16}  {:<24} {:<30} {:<8} {:<20} {:<32} {}\n", "key_id", "name", "roles", "state", "issued_by",
             "issued_at", "expires_at");
  for (const auto& k : *keys)
    fmt::print("{:<16}  {:<24} {:<30} {:<8} {:<20} {:<32} {}\n", k.key_id, k.name, auth::JoinRoles(k.roles), StateOf(k),
               k.issued_by, k.issued_at, k.expires_at.empty() ? "never" : k.expires_at);
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
