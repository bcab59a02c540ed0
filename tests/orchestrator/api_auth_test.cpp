// Authentication without a database: JWTs signed with RSA and EC keys made
// here, checked against a JWKS served by a real HTTP server on loopback (the
// identity provider's stand-in); API keys against an in-memory directory.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "events/base/base64.hpp"
#include "events/base/config.hpp"
#include "orchestrator/api/auth/api_key.hpp"
#include "orchestrator/api/auth/api_key_directory.hpp"
#include "orchestrator/api/auth/authenticator.hpp"
#include "orchestrator/api/auth/jwt.hpp"
#include "orchestrator/api/auth/roles.hpp"
#include "tests/support/http_test_server.hpp"
#include "tests/support/test_identity_provider.hpp"

namespace furrsight::api::auth {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using testing::HttpTestRequest;
using testing::HttpTestResponse;
using testing::HttpTestServer;

constexpr char kIssuer[] = "https://idp.furrsight.test/realms/grooming";
constexpr char kAudience[] = "furrsight-api";
constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

using TestKey = testing::TestSigningKey;
using IdpStandIn = testing::TestIdentityProvider;

json::object Claims() {
  return {{"iss", kIssuer},
          {"aud", kAudience},
          {"sub", "auth0|dana"},
          {"email", "dana@furrsight.test"},
          {"name", "Dana Okafor"},
          {"iat", kNow - 10},
          {"exp", kNow + 300},
          {"roles", json::array{"researcher", "admin", "viewer"}}};
}

std::string Encode(const json::object& o) { return testing::Base64UrlJson(o); }

std::string Token(const TestKey& key, const json::object& claims, std::optional<std::string> kid = std::nullopt) {
  return testing::SignJwt(key, claims, std::move(kid));
}

class RecordingUsersSeen : public UserSeenRecorder {
 public:
  void Seen(const SeenUser& user) override { seen.push_back(user); }
  std::vector<SeenUser> seen;
};

class MemoryDirectory : public ApiKeyDirectory {
 public:
  base::Result<std::optional<ApiKeyRecord>> Find(std::string_view key_id) override {
    ++lookups;
    if (down) return base::Fail(base::ErrorCode::kUnavailable, "database down");
    auto it = keys.find(std::string(key_id));
    if (it == keys.end()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(it->second);
  }
  std::string Add(std::vector<std::string> roles, std::string name = "nightly export") {
    const GeneratedApiKey k = GenerateApiKey();
    keys[k.key_id] = {.key_id = k.key_id, .prefix = k.prefix, .name = name, .key_hash = k.secret_hash, .roles = roles};
    return k.key;
  }
  std::map<std::string, ApiKeyRecord> keys;
  int lookups = 0;
  bool down = false;
};

// Key generation is slow (RSA-2048); every test shares one pair.
const TestKey& SharedRsa() {
  static const TestKey key = TestKey::Rsa("rsa-1");
  return key;
}
const TestKey& SharedEc() {
  static const TestKey key = TestKey::Ec("ec-1");
  return key;
}

class ApiAuthTest : public ::testing::Test {
 protected:
  ApiAuthTest()
      : jwks_(http_, idp_.DiscoveryUrl(), {.min_refetch_interval = std::chrono::milliseconds(10000), .clock = [this] { return steady_now_; }}) {
    idp_.Publish(rsa_);
    idp_.Publish(ec_);
    settings_.oidc_issuer = kIssuer;
    settings_.oidc_audience = kAudience;
    settings_.clock = [this] { return std::chrono::system_clock::time_point(seconds(now_)); };
  }

  Authenticator Auth() { return Authenticator(settings_, &jwks_, &directory_, &seen_); }
  base::Result<Principal> Bearer(const std::string& token) { return Auth().Authenticate("Bearer " + token, ""); }

  static void ExpectRefused(const base::Result<Principal>& r, std::string_view message_part) {
    ASSERT_FALSE(r.has_value()) << "accepted, expected refusal containing: " << message_part;
    EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument) << r.error().message;
    EXPECT_NE(r.error().message.find(message_part), std::string::npos) << r.error().message;
  }

  IdpStandIn idp_;
  CurlHttpGetter http_;
  const TestKey& rsa_ = SharedRsa();
  const TestKey& ec_ = SharedEc();
  std::chrono::steady_clock::time_point steady_now_ = std::chrono::steady_clock::now();
  JwksCache jwks_;
  AuthSettings settings_;
  std::int64_t now_ = kNow;
  MemoryDirectory directory_;
  RecordingUsersSeen seen_;
};

TEST_F(ApiAuthTest, AcceptsAValidRs256TokenWithKnownRolesOnly) {
  auto p = Bearer(Token(rsa_, Claims()));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->subject, "auth0|dana");
  EXPECT_EQ(p->via, "jwt");
  EXPECT_EQ(p->roles, (std::vector<std::string>{"researcher", "admin"})) << "viewer is not a FurrSight role";
  EXPECT_EQ(p->email, "dana@furrsight.test");
  EXPECT_EQ(p->display_name, "Dana Okafor");
  EXPECT_EQ(p->actor, "user:" + UserIdFor(kIssuer, "auth0|dana"));
  ASSERT_EQ(seen_.seen.size(), 1u);
  EXPECT_EQ(seen_.seen[0].email, "dana@furrsight.test");
  EXPECT_EQ(seen_.seen[0].issuer, kIssuer);
}

TEST_F(ApiAuthTest, AcceptsAValidEs256TokenWithRolesFromADottedClaim) {
  settings_.oidc_roles_claim = "realm_access.roles";
  json::object claims = Claims();
  claims.erase("roles");
  claims["realm_access"] = json::object{{"roles", json::array{"auditor", "offline_access"}}};
  auto p = Auth().Authenticate("bearer  " + Token(ec_, claims), "");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->roles, std::vector<std::string>{"auditor"});
}

TEST_F(ApiAuthTest, AcceptsAnAudienceArrayThatContainsOurs) {
  json::object claims = Claims();
  claims["aud"] = json::array{"account", kAudience};
  EXPECT_TRUE(Bearer(Token(rsa_, claims)).has_value());
}

TEST_F(ApiAuthTest, RefusesAnExpiredTokenAndAcceptsWithinTheLeeway) {
  json::object claims = Claims();
  claims["exp"] = kNow - 61;
  ExpectRefused(Bearer(Token(rsa_, claims)), "token expired at 2027-01-15T07:58:59Z");
  claims["exp"] = kNow - 59;
  EXPECT_TRUE(Bearer(Token(rsa_, claims)).has_value()) << "within the 60 s leeway";
}

TEST_F(ApiAuthTest, RefusesATokenWithoutExpiry) {
  json::object claims = Claims();
  claims.erase("exp");
  ExpectRefused(Bearer(Token(rsa_, claims)), "no expiry");
}

TEST_F(ApiAuthTest, RefusesANotYetValidToken) {
  json::object claims = Claims();
  claims["nbf"] = kNow + 120;
  ExpectRefused(Bearer(Token(ec_, claims)), "token not valid before 2027-01-15T08:02:00Z");
}

TEST_F(ApiAuthTest, RefusesTheWrongAudience) {
  json::object claims = Claims();
  claims["aud"] = "another-api";
  ExpectRefused(Bearer(Token(rsa_, claims)), "audience mismatch: expected furrsight-api, got \"another-api\"");
  claims.erase("aud");
  ExpectRefused(Bearer(Token(rsa_, claims)), "audience mismatch: expected furrsight-api");
}

TEST_F(ApiAuthTest, RefusesTheWrongIssuer) {
  json::object claims = Claims();
  claims["iss"] = "https://evil.test/";
  ExpectRefused(Bearer(Token(rsa_, claims)), "issuer mismatch: expected https://idp.furrsight.test/realms/grooming");
}

TEST_F(ApiAuthTest, UnknownKidRefetchesTheKeySetOnceThenAccepts) {
  ASSERT_TRUE(Bearer(Token(rsa_, Claims())).has_value());
  EXPECT_EQ(jwks_.fetch_count(), 1);
  EXPECT_EQ(idp_.JwksRequests(), 1u);

  const TestKey rotated = TestKey::Rsa("rsa-2");  // the provider rotates its keys
  idp_.Publish(rotated);
  steady_now_ += seconds(11);
  auto p = Bearer(Token(rotated, Claims()));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(jwks_.fetch_count(), 2);
  EXPECT_EQ(idp_.JwksRequests(), 2u);

  // Made-up kids do not make us hammer the provider: no refetch within 10 s.
  for (int i = 0; i < 5; ++i) ExpectRefused(Bearer(Token(rotated, Claims(), "nope-" + std::to_string(i))), "unknown signing key nope-");
  EXPECT_EQ(idp_.JwksRequests(), 2u);
  steady_now_ += seconds(10);
  ExpectRefused(Bearer(Token(rotated, Claims(), "nope-x")), "unknown signing key nope-x");
  EXPECT_EQ(idp_.JwksRequests(), 3u) << "a miss after the interval fetches again";
}

TEST_F(ApiAuthTest, AKeyWithdrawnByTheProviderStopsWorkingAfterTheMaxAge) {
  ASSERT_TRUE(Bearer(Token(ec_, Claims())).has_value());
  idp_.Withdraw("ec-1");
  steady_now_ += std::chrono::minutes(59);
  EXPECT_TRUE(Bearer(Token(ec_, Claims())).has_value()) << "the cached set is still fresh";
  EXPECT_EQ(idp_.JwksRequests(), 1u);
  steady_now_ += std::chrono::minutes(1);
  ExpectRefused(Bearer(Token(ec_, Claims())), "unknown signing key ec-1");
  EXPECT_TRUE(Bearer(Token(rsa_, Claims())).has_value());
  EXPECT_EQ(idp_.JwksRequests(), 2u);
}

TEST_F(ApiAuthTest, RefusesAlgNone) {
  const std::string input = Encode({{"alg", "none"}, {"typ", "JWT"}}) + "." + Encode(Claims());
  ExpectRefused(Bearer(input + "."), "alg: none");
  ExpectRefused(Bearer(input + ".c2ln"), "alg: none");
  EXPECT_EQ(idp_.JwksRequests(), 0u) << "refused before any key was fetched";
}

TEST_F(ApiAuthTest, RefusesHs256SignedWithThePublicKeyAsSecret) {
  const std::string input = Encode({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}}) + "." + Encode(Claims());
  for (const std::string& secret : {rsa_.PublicPem(), json::serialize(rsa_.Jwk())}) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
         input.size(), mac, &len);
    ExpectRefused(Bearer(input + "." + base::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len))),
                  "alg: HS256");
  }
}

TEST_F(ApiAuthTest, RefusesATamperedPayload) {
  const std::string token = Token(rsa_, Claims());
  json::object promoted = Claims();
  promoted["sub"] = "auth0|mallory";
  const size_t dot1 = token.find('.'), dot2 = token.rfind('.');
  const std::string forged = token.substr(0, dot1 + 1) + Encode(promoted) + token.substr(dot2);
  ExpectRefused(Bearer(forged), "invalid token signature");
  std::string flipped = token;
  flipped[dot2 + 5] = flipped[dot2 + 5] == 'A' ? 'B' : 'A';
  ExpectRefused(Bearer(flipped), "invalid token signature");

  const std::string es = Token(ec_, Claims());
  const std::string es_forged = es.substr(0, es.find('.') + 1) + Encode(promoted) + es.substr(es.rfind('.'));
  ExpectRefused(Bearer(es_forged), "invalid token signature");
}

TEST_F(ApiAuthTest, RefusesAKeyOfTheWrongTypeForTheAlg) {
  // An ES256 header naming the RSA key: the RSA key must not be used as an EC one.
  const std::string input = Encode({{"alg", "ES256"}, {"kid", "rsa-1"}}) + "." + Encode(Claims());
  ExpectRefused(Bearer(input + "." + base::Base64UrlEncode(ec_.Sign(input))), "is not a P-256 key");
  const std::string input2 = Encode({{"alg", "RS256"}, {"kid", "ec-1"}}) + "." + Encode(Claims());
  ExpectRefused(Bearer(input2 + "." + base::Base64UrlEncode(rsa_.Sign(input2))), "is not an RSA key");
}

TEST_F(ApiAuthTest, RefusesMalformedTokens) {
  const std::string good = Token(rsa_, Claims());
  const std::string header = good.substr(0, good.find('.'));
  for (const std::string& bad : std::vector<std::string>{
           "x", "a.b", "a.b.c.d", "..", "!!!.e30.c2ln", header + ".e30", header + "..c2ln", header + ".bm90IGpzb24.c2ln",
           header + ".WzFd.c2ln" /* [1] */, Encode({{"typ", "JWT"}}) + ".e30.c2ln", Encode({{"alg", 5}}) + ".e30.c2ln",
           Encode({{"alg", "RS512"}}) + ".e30.c2ln", Encode({{"alg", "PS256"}}) + ".e30.c2ln",
           header + "." + good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1) + ".",
           good + "=", std::string(20000, 'a')}) {
    auto r = Bearer(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument) << bad << ": " << r.error().message;
    }
  }
}

TEST_F(ApiAuthTest, AnUnreachableIdentityProviderIsUnavailable) {
  std::string dead_url;
  {
    HttpTestServer closed;
    dead_url = closed.Url("/.well-known/openid-configuration");
  }
  CurlHttpGetter http({.connect_timeout = std::chrono::milliseconds(500), .timeout = std::chrono::milliseconds(1000)});
  JwksCache jwks(http, dead_url);
  Authenticator auth(settings_, &jwks, &directory_, &seen_);
  auto r = auth.Authenticate("Bearer " + Token(rsa_, Claims()), "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, base::ErrorCode::kUnavailable) << r.error().message;
  EXPECT_NE(r.error().message.find("identity provider unreachable"), std::string::npos) << r.error().message;
}

TEST_F(ApiAuthTest, AnOversizedKeySetIsRefusedByTheSizeCap) {
  HttpTestServer huge;
  huge.Route("/big", [](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Json("{\"jwks_uri\":\"");
    r.filler_bytes = 2 << 20;
    return r;
  });
  CurlHttpGetter http({.max_body_bytes = 64 * 1024});
  auto r = http.Get(huge.Url("/big"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, base::ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("larger than 65536 bytes"), std::string::npos) << r.error().message;
}

TEST_F(ApiAuthTest, BearerTokensAreRefusedWithoutAConfiguredIssuer) {
  settings_.oidc_issuer.clear();
  ExpectRefused(Bearer(Token(rsa_, Claims())), "no identity provider is configured");
}

TEST_F(ApiAuthTest, NoCredentialsSaysWhatToSend) {
  ExpectRefused(Auth().Authenticate("", ""), "missing credentials: send Authorization: Bearer <token> or X-API-Key");
  ExpectRefused(Auth().Authenticate("Basic dXNlcjpwdw==", ""), "unsupported Authorization scheme 'basic'");
  ExpectRefused(Auth().Authenticate("Bearer", ""), "malformed Authorization header");
}

TEST_F(ApiAuthTest, AcceptsAnApiKeyInEitherHeader) {
  const std::string key = directory_.Add({"researcher", "operator"});
  for (auto [authorization, x_api_key] : {std::pair<std::string, std::string>{"", key}, {"ApiKey " + key, ""}}) {
    auto p = Auth().Authenticate(authorization, x_api_key);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    EXPECT_EQ(p->via, "api_key");
    EXPECT_EQ(p->roles, (std::vector<std::string>{"researcher", "operator"}));
    EXPECT_EQ(p->display_name, "nightly export");
    EXPECT_EQ(p->actor, "apikey:" + p->subject);
  }
  EXPECT_TRUE(seen_.seen.empty()) << "API keys are not users seen";
}

TEST_F(ApiAuthTest, RefusesWrongSecretUnknownRevokedAndMalformedKeys) {
  const std::string key = directory_.Add({"admin"});
  const auto parts = ParseApiKey(key);
  ASSERT_TRUE(parts.has_value());
  std::string wrong = key;  // a middle character: the last one carries padding bits a strict decoder checks
  char& c = wrong[wrong.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  ExpectRefused(Auth().Authenticate("", wrong), "unknown API key fs_" + parts->key_id);
  ExpectRefused(Auth().Authenticate("", GenerateApiKey().key), "unknown API key");
  ExpectRefused(Auth().Authenticate("", "fs_nothex_abc"), "malformed API key");
  ExpectRefused(Auth().Authenticate("", "sk_live_123"), "malformed API key");
  ExpectRefused(Auth().Authenticate("Bearer x", key), "two credentials sent");
  directory_.keys[parts->key_id].revoked = true;
  ExpectRefused(Auth().Authenticate("", key), "was revoked");
}

TEST_F(ApiAuthTest, AnUnreachableKeyDirectoryIsUnavailable) {
  const std::string key = directory_.Add({"admin"});
  directory_.down = true;
  auto r = Auth().Authenticate("", key);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, base::ErrorCode::kUnavailable);
}

TEST(ApiKeyCache, ARevocationShowsAfterTheTtlAndErrorsAreNotCached) {
  MemoryDirectory inner;
  const std::string key = inner.Add({"researcher"});
  const std::string id = ParseApiKey(key)->key_id;
  auto now = std::chrono::steady_clock::now();
  CachingApiKeyDirectory cache(inner, {.ttl = seconds(5), .miss_ttl = seconds(1), .clock = [&] { return now; }});
  ASSERT_FALSE((*cache.Find(id))->revoked);
  inner.keys[id].revoked = true;
  EXPECT_FALSE((*cache.Find(id))->revoked) << "cached within the TTL";
  EXPECT_EQ(inner.lookups, 1);
  now += seconds(5);
  EXPECT_TRUE((*cache.Find(id))->revoked);
  EXPECT_EQ(inner.lookups, 2);

  inner.down = true;
  now += seconds(5);
  EXPECT_FALSE(cache.Find(id).has_value());
  inner.down = false;
  EXPECT_TRUE(cache.Find(id).has_value()) << "the failure was not remembered";
}

TEST(ApiKeyFormat, KeysParseHashAndCompare) {
  const GeneratedApiKey k = GenerateApiKey();
  EXPECT_TRUE(k.key.starts_with("fs_" + k.key_id + "_"));
  EXPECT_EQ(k.key.size(), 3u + 16u + 1u + 43u);
  auto parts = ParseApiKey(k.key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->key_id, k.key_id);
  EXPECT_EQ(parts->secret, k.secret);
  EXPECT_TRUE(ApiKeySecretMatches(k.secret, k.secret_hash));
  EXPECT_FALSE(ApiKeySecretMatches(k.secret + "x", k.secret_hash));
  EXPECT_EQ(k.secret_hash.find(k.secret), std::string::npos);
  EXPECT_NE(GenerateApiKey().key, k.key);
}

TEST(Roles, ParseRoleListKeepsKnownRolesInOrder) {
  EXPECT_EQ(*ParseRoleList(" admin,Researcher ,admin"), (std::vector<std::string>{"researcher", "admin"}));
  EXPECT_FALSE(ParseRoleList("curator").has_value());
  EXPECT_FALSE(ParseRoleList("").has_value());
}

TEST(Ecdsa, RawAndDerRoundTrip) {
  const TestKey key = TestKey::Ec("k");
  const std::string raw = key.Sign("payload");
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_EQ(EcdsaDerToRaw(EcdsaRawToDer(raw)), raw);
  EXPECT_TRUE(EcdsaRawToDer(raw.substr(1)).empty());
}

TEST(AuthSettingsConfig, AnIssuerWithoutAudienceIsAConfigError) {
  auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto bad = base::Config::Load(std::nullopt, {{"oidc_issuer", kIssuer}}, no_env);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("oidc_audience is required"), std::string::npos);
  auto leeway = base::Config::Load(std::nullopt, {{"oidc_leeway_seconds", "-3"}}, no_env);
  EXPECT_FALSE(leeway.has_value());
  auto good = base::Config::Load(std::nullopt,
                                 {{"oidc_issuer", kIssuer}, {"oidc_audience", kAudience}, {"oidc_leeway_seconds", "0"}}, no_env);
  ASSERT_TRUE(good.has_value()) << good.error().message;
  const AuthSettings s = AuthSettings::FromConfig(*good);
  EXPECT_EQ(s.oidc_leeway, seconds(0));
  EXPECT_EQ(s.oidc_roles_claim, "roles");
  EXPECT_EQ(s.DiscoveryUrl(), std::string(kIssuer) + "/.well-known/openid-configuration");
}

}  // namespace
}  // namespace furrsight::api::auth
