#include "orchestrator/api/auth/authenticator.hpp"

#include <fmt/format.h>

#include "events/base/text.hpp"
#include "orchestrator/api/auth/api_key.hpp"
#include "orchestrator/api/auth/jwt.hpp"
#include "orchestrator/api/auth/roles.hpp"

namespace furrsight::api::auth {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

constexpr std::string_view kMissingCredentials =
    "missing credentials: send Authorization: Bearer <token> or X-API-Key";

// The value at a dotted path ("realm_access.roles"); null when absent.
const json::value* AtPath(const json::object& root, std::string_view path) {
  const json::object* object = &root;
  while (true) {
    const size_t dot = path.find('.');
    const json::value* v = object->if_contains(path.substr(0, dot));
    if (v == nullptr || dot == std::string_view::npos) return v;
    if (!v->is_object()) return nullptr;
    object = &v->as_object();
    path.remove_prefix(dot + 1);
  }
}

// A roles claim is an array of strings or one string of space- or comma-separated roles.
std::vector<std::string> RolesFrom(const json::value* claim) {
  std::vector<std::string> roles;
  if (claim == nullptr) return roles;
  if (claim->is_array()) {
    for (const json::value& v : claim->as_array())
      if (v.is_string()) roles.push_back(base::Lower(v.as_string()));
  } else if (claim->is_string()) {
    std::string_view text = claim->as_string();
    while (!text.empty()) {
      const size_t sep = text.find_first_of(" ,");
      if (sep != 0) roles.push_back(base::Lower(text.substr(0, sep)));
      if (sep == std::string_view::npos) break;
      text.remove_prefix(sep + 1);
    }
  }
  return KnownRolesAmong(roles);
}

std::string StringClaim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// "Bearer abc" -> ("bearer", "abc"); the scheme is case-insensitive (RFC 9110).
std::pair<std::string, std::string_view> SplitScheme(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  const size_t space = header.find(' ');
  if (space == std::string_view::npos) return {base::Lower(header), {}};
  std::string_view rest = header.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return {base::Lower(header.substr(0, space)), rest};
}

}  // namespace

AuthSettings AuthSettings::FromConfig(const base::Config& config) {
  AuthSettings s;
  s.oidc_issuer = config.Get("oidc_issuer");
  s.oidc_discovery_url = config.Get("oidc_discovery_url");
  s.oidc_audience = config.Get("oidc_audience");
  s.oidc_roles_claim = config.Get("oidc_roles_claim").empty() ? "roles" : config.Get("oidc_roles_claim");
  s.oidc_leeway = std::chrono::seconds(std::stoll(config.Get("oidc_leeway_seconds")));  // digits only (Config::Load)
  return s;
}

std::string AuthSettings::DiscoveryUrl() const {
  return oidc_discovery_url.empty() ? JwksCache::DiscoveryUrlFor(oidc_issuer) : oidc_discovery_url;
}

Authenticator::Authenticator(AuthSettings settings, JwksCache* jwks, ApiKeyDirectory* api_keys,
                             UserSeenRecorder* users_seen)
    : settings_(std::move(settings)), jwks_(jwks), api_keys_(api_keys), users_seen_(users_seen) {}

base::Result<Principal> Authenticator::Authenticate(std::string_view authorization_header,
                                                    std::string_view api_key_header) {
  const std::string api_key = base::Trim(api_key_header);
  const bool has_authorization = !base::Trim(authorization_header).empty();
  if (!api_key.empty() && has_authorization)
    return Fail(ErrorCode::kInvalidArgument,
                "two credentials sent: use either Authorization or X-API-Key, not both");
  if (!api_key.empty()) return AuthenticateApiKey(api_key);
  if (!has_authorization) return Fail(ErrorCode::kInvalidArgument, std::string(kMissingCredentials));

  auto [scheme, credentials] = SplitScheme(authorization_header);
  if (credentials.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("malformed Authorization header: expected 'Bearer <token>' or 'ApiKey fs_...'"));
  if (scheme == "bearer") return AuthenticateJwt(credentials);
  if (scheme == "apikey") return AuthenticateApiKey(credentials);
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("unsupported Authorization scheme '{}': use Bearer <token> or ApiKey fs_...", scheme));
}

base::Result<Principal> Authenticator::AuthenticateJwt(std::string_view token) {
  if (settings_.oidc_issuer.empty() || jwks_ == nullptr)
    return Fail(ErrorCode::kInvalidArgument,
                "bearer tokens are not accepted: no identity provider is configured (oidc_issuer); use an API key");
  auto jwt = ParseJwt(token);
  if (!jwt) return std::unexpected(jwt.error());
  auto key = jwks_->Key(jwt->kid);
  if (!key) return std::unexpected(key.error());
  if (auto ok = VerifyJwtSignature(*jwt, key->get()); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckJwtClaims(jwt->claims, {settings_.oidc_issuer, settings_.oidc_audience, settings_.oidc_leeway},
                               settings_.clock());
      !ok)
    return std::unexpected(ok.error());

  Principal p;
  p.subject = StringClaim(jwt->claims, "sub");
  if (p.subject.empty()) return Fail(ErrorCode::kInvalidArgument, "token refused: it names no subject (sub)");
  p.via = "jwt";
  p.roles = RolesFrom(AtPath(jwt->claims, settings_.oidc_roles_claim));
  p.email = StringClaim(jwt->claims, "email");
  p.display_name = StringClaim(jwt->claims, "name");
  if (p.display_name.empty()) p.display_name = StringClaim(jwt->claims, "preferred_username");
  p.actor = "user:" + UserIdFor(settings_.oidc_issuer, p.subject);
  if (users_seen_ != nullptr)
    users_seen_->Seen({settings_.oidc_issuer, p.subject, p.email, p.display_name, StringClaim(jwt->claims, "picture"), p.roles});
  return p;
}

base::Result<Principal> Authenticator::AuthenticateApiKey(std::string_view key) {
  if (api_keys_ == nullptr) return Fail(ErrorCode::kInvalidArgument, "API keys are not accepted by this server");
  auto parts = ParseApiKey(key);
  if (!parts)
    return Fail(ErrorCode::kInvalidArgument,
                "malformed API key: expected fs_<key id>_<secret> as printed by 'furrsight apikeys issue'");
  auto record = api_keys_->Find(parts->key_id);
  if (!record) return std::unexpected(record.error());
  // The same message whether the id is unknown or the secret wrong: an id is not a secret, but the
  // answer should not help anyone guess which half is right.
  if (!*record || !ApiKeySecretMatches(parts->secret, (*record)->key_hash))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown API key fs_{}_…", parts->key_id));
  if ((*record)->revoked)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("API key fs_{}_… was revoked", parts->key_id));
  if (const auto expires = (*record)->expires_at_us; expires > 0) {
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(settings_.clock().time_since_epoch()).count();
    if (now_us >= expires)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("API key fs_{}_… expired at {}; ask an admin for a new one", parts->key_id,
                              (*record)->expires_at));
  }
  Principal p;
  p.subject = (*record)->key_id;
  p.roles = KnownRolesAmong((*record)->roles);
  p.via = "api_key";
  p.display_name = (*record)->name;
  p.actor = "apikey:" + (*record)->key_id;
  return p;
}

}  // namespace furrsight::api::auth
