#include "orchestrator/api/auth/jwk.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "events/base/base64.hpp"

namespace furrsight::api::auth {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

constexpr std::size_t kP256CoordinateBytes = 32;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamsDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

base::Result<std::string> Member(const json::object& jwk, std::string_view name, const std::string& kid) {
  const json::value* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: member {} is missing", kid, name));
  auto bytes = base::Base64UrlDecode(v->as_string());
  if (!bytes || bytes->empty())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: member {} is not base64url", kid, name));
  return std::move(*bytes);
}

base::Result<PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld, const std::string& kid) {
  std::unique_ptr<OSSL_PARAM, ParamsDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || key == nullptr)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: OpenSSL does not accept it as a {} public key", kid, type));
  return PkeyPtr(key);
}

BIGNUM* ToBn(const std::string& bytes) {
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr);
}

}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

base::Result<Jwk> ParseJwk(const json::object& object) {
  Jwk jwk;
  if (const json::value* v = object.if_contains("kid"); v != nullptr && v->is_string()) jwk.kid = std::string(v->as_string());
  if (const json::value* v = object.if_contains("alg"); v != nullptr && v->is_string()) jwk.alg = std::string(v->as_string());
  if (const json::value* v = object.if_contains("kty"); v != nullptr && v->is_string()) jwk.kty = std::string(v->as_string());
  if (const json::value* use = object.if_contains("use"); use != nullptr && use->is_string() && use->as_string() != "sig")
    return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: not a signing key (use {})", jwk.kid,
                                                         std::string(use->as_string())));
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld) return Fail(ErrorCode::kInternal, "OpenSSL could not allocate a parameter builder");

  if (jwk.kty == "RSA") {
    auto n = Member(object, "n", jwk.kid);
    if (!n) return std::unexpected(n.error());
    auto e = Member(object, "e", jwk.kid);
    if (!e) return std::unexpected(e.error());
    std::unique_ptr<BIGNUM, BnDeleter> bn_n(ToBn(*n)), bn_e(ToBn(*e));
    if (!bn_n || !bn_e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
      return Fail(ErrorCode::kInternal, "OpenSSL could not build RSA parameters");
    auto key = FromParams("RSA", bld.get(), jwk.kid);  // copies the BIGNUMs
    if (!key) return std::unexpected(key.error());
    jwk.key = std::move(*key);
    return jwk;
  }
  if (jwk.kty == "EC") {
    const json::value* crv = object.if_contains("crv");
    if (crv == nullptr || !crv->is_string() || crv->as_string() != "P-256")
      return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: only the EC curve P-256 is supported", jwk.kid));
    auto x = Member(object, "x", jwk.kid);
    if (!x) return std::unexpected(x.error());
    auto y = Member(object, "y", jwk.kid);
    if (!y) return std::unexpected(y.error());
    if (x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: P-256 coordinates are 32 bytes each", jwk.kid));
    std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
    static constexpr char kGroup[] = "prime256v1";
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroup, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
      return Fail(ErrorCode::kInternal, "OpenSSL could not build EC parameters");
    auto key = FromParams("EC", bld.get(), jwk.kid);
    if (!key) return std::unexpected(key.error());
    jwk.key = std::move(*key);
    return jwk;
  }
  return Fail(ErrorCode::kInvalidArgument, fmt::format("JWK {}: key type '{}' is not supported (RSA, EC)", jwk.kid, jwk.kty));
}

}  // namespace furrsight::api::auth
