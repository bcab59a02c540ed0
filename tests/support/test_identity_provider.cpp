#include "tests/support/test_identity_provider.hpp"

#include <chrono>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "events/base/base64.hpp"
#include "orchestrator/api/auth/jwt.hpp"

namespace furrsight::testing {

namespace json = boost::json;

namespace {

std::string Bytes(const BIGNUM* bn) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

}  // namespace

TestSigningKey TestSigningKey::Rsa(std::string kid) {
  return {std::move(kid), "RS256", api::auth::PkeyPtr(EVP_RSA_gen(2048))};
}

TestSigningKey TestSigningKey::Ec(std::string kid) {
  return {std::move(kid), "ES256", api::auth::PkeyPtr(EVP_EC_gen("P-256"))};
}

json::object TestSigningKey::Jwk() const {
  if (alg == "RS256") {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e);
    json::object jwk{{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"alg", "RS256"},
                     {"n", base::Base64UrlEncode(Bytes(n))}, {"e", base::Base64UrlEncode(Bytes(e))}};
    BN_free(n);
    BN_free(e);
    return jwk;
  }
  unsigned char point[65];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
  EXPECT_EQ(len, 65u);
  const std::string p(reinterpret_cast<char*>(point), len);
  return {{"kty", "EC"}, {"kid", kid}, {"crv", "P-256"}, {"use", "sig"},
          {"x", base::Base64UrlEncode(p.substr(1, 32))}, {"y", base::Base64UrlEncode(p.substr(33, 32))}};
}

std::string TestSigningKey::PublicPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pkey.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

std::string TestSigningKey::Sign(std::string_view input) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, pkey.get(), nullptr);
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return alg == "ES256" ? api::auth::EcdsaDerToRaw(sig) : sig;
}

std::string Base64UrlJson(const json::object& object) { return base::Base64UrlEncode(json::serialize(object)); }

std::string SignJwt(const TestSigningKey& key, const json::object& claims, std::optional<std::string> kid) {
  const std::string input =
      Base64UrlJson({{"alg", key.alg}, {"typ", "JWT"}, {"kid", kid.value_or(key.kid)}}) + "." + Base64UrlJson(claims);
  return input + "." + base::Base64UrlEncode(key.Sign(input));
}

TestIdentityProvider::TestIdentityProvider() {
  server_.Route("/realms/grooming/.well-known/openid-configuration", [this](const HttpTestRequest&) {
    return HttpTestResponse::Json(json::serialize(json::object{{"issuer", kIssuer}, {"jwks_uri", server_.Url("/jwks")}}));
  });
  server_.Route("/jwks", [this](const HttpTestRequest&) {
    std::lock_guard lock(mu_);
    json::array keys;
    for (const auto& k : keys_) keys.push_back(k);
    return HttpTestResponse::Json(json::serialize(json::object{{"keys", keys}}));
  });
}

void TestIdentityProvider::Publish(const TestSigningKey& key) {
  std::lock_guard lock(mu_);
  keys_.push_back(key.Jwk());
}

void TestIdentityProvider::Withdraw(const std::string& kid) {
  std::lock_guard lock(mu_);
  std::erase_if(keys_, [&](const json::object& k) { return k.at("kid").as_string() == kid; });
}

std::string TestIdentityProvider::DiscoveryUrl() const {
  return server_.Url("/realms/grooming/.well-known/openid-configuration");
}

std::size_t TestIdentityProvider::JwksRequests() const { return server_.RequestCount("/jwks"); }

json::object TestIdentityProvider::Claims(const std::vector<std::string>& roles) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json::array role_list;
  for (const auto& r : roles) role_list.emplace_back(r);
  return {{"iss", kIssuer},        {"aud", kAudience},  {"sub", "idp|dana"},
          {"email", "dana@furrsight.test"}, {"name", "Dana Okafor"}, {"iat", now - 10},
          {"exp", now + 300},      {"roles", std::move(role_list)}};
}

}  // namespace furrsight::testing
