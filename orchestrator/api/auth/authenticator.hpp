// Authenticator: turns a request's credentials into a Principal.
//
//   Authorization: Bearer <JWT>        an OIDC access/ID token from the configured issuer
//   X-API-Key: fs_<key_id>_<secret>    an API key (also: Authorization: ApiKey fs_...)
//
// A JWT is parsed, its alg checked (RS256/ES256 only), its key taken from the
// JwksCache by kid, its signature verified, then iss/aud/exp/nbf; roles come
// from the configured claim (a dotted path), intersected with the known
// roles. An API key is looked up by id in the ApiKeyDirectory and its secret
// compared with the stored hash in constant time; revoked keys are refused.
// A successful JWT sign-in is reported to the UserSeenRecorder.
//
// Errors: kInvalidArgument for missing or bad credentials (the HTTP layer
// answers 401 with the message), kUnavailable when the identity provider or
// the database cannot be asked (503). docs/auth.md lists each message.
//
// Holds non-owning pointers (any may be null: a null JwksCache refuses
// bearer tokens, a null directory refuses API keys, a null recorder records
// nothing); they must outlive it. Thread-safe when they are.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "events/base/config.hpp"
#include "events/base/error.hpp"
#include "orchestrator/api/auth/api_key_directory.hpp"
#include "orchestrator/api/auth/jwks_cache.hpp"
#include "orchestrator/api/auth/principal.hpp"
#include "orchestrator/api/auth/user_seen_recorder.hpp"

namespace furrsight::api::auth {

struct AuthSettings {
  std::string oidc_issuer;         // empty: bearer tokens are refused
  std::string oidc_discovery_url;  // empty: derived from the issuer
  std::string oidc_audience;
  std::string oidc_roles_claim = "roles";  // dotted path, e.g. realm_access.roles
  std::chrono::seconds oidc_leeway{60};
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;

  // From the oidc_* settings (Config::Load has already checked them).
  static AuthSettings FromConfig(const base::Config& config);
  // The discovery URL to use: oidc_discovery_url, or the issuer's well-known one.
  std::string DiscoveryUrl() const;
};

class Authenticator {
 public:
  Authenticator(AuthSettings settings, JwksCache* jwks, ApiKeyDirectory* api_keys, UserSeenRecorder* users_seen);

  // The two header values as received ("" when absent).
  base::Result<Principal> Authenticate(std::string_view authorization_header, std::string_view api_key_header);

 private:
  base::Result<Principal> AuthenticateJwt(std::string_view token);
  base::Result<Principal> AuthenticateApiKey(std::string_view key);

  const AuthSettings settings_;
  JwksCache* const jwks_;
  ApiKeyDirectory* const api_keys_;
  UserSeenRecorder* const users_seen_;
};

}  // namespace furrsight::api::auth
