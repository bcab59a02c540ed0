// JwksCache: the identity provider's signing keys, from its OIDC discovery
// document (`jwks_uri`) and the JSON Web Key Set there, kept in memory.
//
// The set is fetched on first use and again when a token names a key id the
// cache does not hold (the provider rotated its keys) — at most once per
// `min_refetch_interval`, so a stream of tokens with made-up kids cannot make
// FurrSight hammer the provider. A set older than `max_age` is fetched again
// on the next use (so a key the provider withdrew stops working); if that
// fetch fails the old set stays in use. Keys that do not parse (other curves, other
// types) are skipped with a warning; the others stay usable.
//
// Errors: kUnavailable when the provider cannot be reached or answers
// nonsense and no usable key is cached; kInvalidArgument for a kid the
// (freshly fetched) set does not have.
//
// Thread-safe: one mutex guards the key map and the fetch times; fetching
// happens under it, so concurrent misses cause one fetch, not many. Keys are
// shared (std::shared_ptr) because a refetch may replace the map while
// another thread still verifies with an old key.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "events/base/error.hpp"
#include "orchestrator/api/auth/http_getter.hpp"
#include "orchestrator/api/auth/jwk.hpp"

namespace furrsight::api::auth {

class JwksCache {
 public:
  struct Options {
    std::chrono::milliseconds min_refetch_interval{10000};
    std::chrono::milliseconds max_age{3600 * 1000};
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  };

  // `discovery_url`: the provider's /.well-known/openid-configuration
  // (DiscoveryUrlFor builds it from an issuer). `http` must outlive this.
  JwksCache(HttpGetter& http, std::string discovery_url);
  JwksCache(HttpGetter& http, std::string discovery_url, Options options);

  // The key named `kid` (empty: the set's only key, when it has exactly one).
  base::Result<std::shared_ptr<EVP_PKEY>> Key(std::string_view kid);

  // How many times the key set was fetched (discovery + JWKS counts once).
  int fetch_count() const;

  // "<issuer without trailing slash>/.well-known/openid-configuration"
  static std::string DiscoveryUrlFor(std::string_view issuer);

 private:
  base::Result<void> FetchLocked();  // requires mu_
  base::Result<std::string> GetJson(const std::string& url, std::string_view what);

  HttpGetter& http_;
  const std::string discovery_url_;
  const Options options_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<EVP_PKEY>, std::less<>> keys_;  // guarded by mu_; by kid
  std::optional<std::chrono::steady_clock::time_point> last_fetch_;     // guarded by mu_; last attempt
  std::optional<std::chrono::steady_clock::time_point> last_success_;   // guarded by mu_
  int fetch_count_ = 0;                                                  // guarded by mu_
};

}  // namespace furrsight::api::auth
