// The OIDC identity provider's stand-in for tests: signing keys the test
// makes (RSA-2048 / P-256 with OpenSSL), JWTs signed with them, and the
// provider's discovery document and JWKS served over real HTTP on loopback
// (HttpTestServer). Thread-safe: the key set may change while it serves.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "orchestrator/api/auth/jwk.hpp"
#include "tests/support/http_test_server.hpp"

namespace furrsight::testing {

struct TestSigningKey {
  std::string kid;
  std::string alg;  // RS256 | ES256
  api::auth::PkeyPtr pkey;

  static TestSigningKey Rsa(std::string kid);
  static TestSigningKey Ec(std::string kid);
  boost::json::object Jwk() const;
  std::string PublicPem() const;
  // The JWS signature of `input` (ES256: raw r||s).
  std::string Sign(std::string_view input) const;
};

// A compact JWS over `claims`, with the key's kid unless `kid` names another.
std::string SignJwt(const TestSigningKey& key, const boost::json::object& claims,
                    std::optional<std::string> kid = std::nullopt);
std::string Base64UrlJson(const boost::json::object& object);

class TestIdentityProvider {
 public:
  static constexpr char kIssuer[] = "https://idp.furrsight.test/realms/grooming";
  static constexpr char kAudience[] = "furrsight-api";

  TestIdentityProvider();
  void Publish(const TestSigningKey& key);
  void Withdraw(const std::string& kid);
  std::string DiscoveryUrl() const;
  std::size_t JwksRequests() const;

  // Claims of a user valid for five minutes from now, with `roles`.
  static boost::json::object Claims(const std::vector<std::string>& roles);

 private:
  HttpTestServer server_;
  std::mutex mu_;
  std::vector<boost::json::object> keys_;  // guarded by mu_
};

}  // namespace furrsight::testing
