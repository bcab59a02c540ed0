#include "orchestrator/api/auth/jwt.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "events/base/base64.hpp"

namespace furrsight::api::auth {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

constexpr std::size_t kMaxTokenBytes = 16 * 1024;  // far above any real ID token; bounds the work done on junk
constexpr int kMinRsaBits = 2048;
constexpr std::size_t kP256CoordinateBytes = 32;

base::Result<json::object> DecodeJsonPart(std::string_view part, std::string_view what) {
  auto bytes = base::Base64UrlDecode(part);
  if (!bytes) return Fail(ErrorCode::kInvalidArgument, fmt::format("malformed token: the {} is not base64url", what));
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("malformed token: the {} is not a JSON object", what));
  return std::move(value.as_object());
}

std::string Iso(std::int64_t seconds) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(seconds)));
}

// A NumericDate claim; nullopt when absent, an error when not a number.
base::Result<std::optional<std::int64_t>> NumericDate(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->as_int64());
  if (v->is_uint64() && v->as_uint64() < (1ULL << 62)) return std::optional<std::int64_t>(static_cast<std::int64_t>(v->as_uint64()));
  if (v->is_double() && std::isfinite(v->as_double()) && std::abs(v->as_double()) < 1e15)
    return std::optional<std::int64_t>(static_cast<std::int64_t>(std::floor(v->as_double())));
  return Fail(ErrorCode::kInvalidArgument, fmt::format("malformed token: claim {} is not a number of seconds", name));
}

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

bool IsP256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) return false;
  const std::string_view name(group, len);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

}  // namespace

std::string_view JwtAlgName(JwtAlg alg) { return alg == JwtAlg::kRs256 ? "RS256" : "ES256"; }

base::Result<Jwt> ParseJwt(std::string_view token) {
  if (token.empty()) return Fail(ErrorCode::kInvalidArgument, "malformed token: it is empty");
  if (token.size() > kMaxTokenBytes)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("malformed token: longer than {} bytes", kMaxTokenBytes));
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument,
                "malformed token: a JWT is three base64url parts separated by dots (header.payload.signature)");
  Jwt jwt;
  auto header = DecodeJsonPart(token.substr(0, first), "header");
  if (!header) return std::unexpected(header.error());
  jwt.header = std::move(*header);

  const json::value* alg = jwt.header.if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return Fail(ErrorCode::kInvalidArgument, "malformed token: the header has no alg");
  const std::string_view alg_name = alg->as_string();
  if (alg_name == "RS256") {
    jwt.alg = JwtAlg::kRs256;
  } else if (alg_name == "ES256") {
    jwt.alg = JwtAlg::kEs256;
  } else if (alg_name == "none" || alg_name == "None" || alg_name == "NONE") {
    return Fail(ErrorCode::kInvalidArgument, "unsigned token refused (alg: none); only RS256 and ES256 are accepted");
  } else if (alg_name.starts_with("HS")) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("token signed with a shared secret refused (alg: {}); only RS256 and ES256 are accepted",
                            std::string(alg_name)));
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("token algorithm {} refused; only RS256 and ES256 are accepted", std::string(alg_name)));
  }
  if (const json::value* crit = jwt.header.if_contains("crit"); crit != nullptr)
    return Fail(ErrorCode::kInvalidArgument, "token refused: it names critical header extensions (crit) FurrSight does not implement");
  if (const json::value* kid = jwt.header.if_contains("kid"); kid != nullptr) {
    if (!kid->is_string()) return Fail(ErrorCode::kInvalidArgument, "malformed token: kid is not a string");
    jwt.kid = std::string(kid->as_string());
  }

  auto claims = DecodeJsonPart(token.substr(first + 1, second - first - 1), "payload");
  if (!claims) return std::unexpected(claims.error());
  jwt.claims = std::move(*claims);

  auto signature = base::Base64UrlDecode(token.substr(second + 1));
  if (!signature || signature->empty())
    return Fail(ErrorCode::kInvalidArgument, "malformed token: the signature is missing or not base64url");
  jwt.signature = std::move(*signature);
  jwt.signing_input = std::string(token.substr(0, second));
  return jwt;
}

std::string EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<BIGNUM, BnDeleter> r(BN_bin2bn(p, kP256CoordinateBytes, nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> s(BN_bin2bn(p + kP256CoordinateBytes, kP256CoordinateBytes, nullptr));
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  (void)r.release();  // owned by sig now
  (void)s.release();
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return {};
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != len) return {};
  return der;
}

std::string EcdsaDerToRaw(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kP256CoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256CoordinateBytes) < 0 || BN_bn2binpad(s, out + kP256CoordinateBytes, kP256CoordinateBytes) < 0)
    return {};
  return raw;
}

base::Result<void> VerifyJwtSignature(const Jwt& jwt, EVP_PKEY* key) {
  if (key == nullptr) return Fail(ErrorCode::kInvalidArgument, "token refused: no key to verify it with");
  std::string der;
  std::string_view signature = jwt.signature;
  if (jwt.alg == JwtAlg::kRs256) {
    if (!EVP_PKEY_is_a(key, "RSA"))
      return Fail(ErrorCode::kInvalidArgument, fmt::format("token refused: alg RS256 but key {} is not an RSA key", jwt.kid));
    if (EVP_PKEY_get_bits(key) < kMinRsaBits)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("token refused: key {} is shorter than {} bits", jwt.kid, kMinRsaBits));
  } else {
    if (!IsP256(key))
      return Fail(ErrorCode::kInvalidArgument, fmt::format("token refused: alg ES256 but key {} is not a P-256 key", jwt.kid));
    der = EcdsaRawToDer(jwt.signature);
    if (der.empty())
      return Fail(ErrorCode::kInvalidArgument, "invalid token signature: an ES256 signature is 64 bytes (r||s)");
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key, nullptr) != 1)
    return Fail(ErrorCode::kInternal, "OpenSSL could not set up a SHA-256 signature check");
  const int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                  reinterpret_cast<const unsigned char*>(jwt.signing_input.data()),
                                  jwt.signing_input.size());
  if (ok != 1) return Fail(ErrorCode::kInvalidArgument, "invalid token signature");
  return {};
}

base::Result<void> CheckJwtClaims(const json::object& claims, const ClaimExpectations& expect,
                                  std::chrono::system_clock::time_point now) {
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t leeway = expect.leeway.count();

  const json::value* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("issuer mismatch: expected {}, the token names none", expect.issuer));
  if (iss->as_string() != expect.issuer)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("issuer mismatch: expected {}, got {}", expect.issuer, std::string(iss->as_string())));

  const json::value* aud = claims.if_contains("aud");
  bool aud_ok = false;
  if (aud != nullptr && aud->is_string()) aud_ok = aud->as_string() == expect.audience;
  if (aud != nullptr && aud->is_array())
    aud_ok = std::any_of(aud->as_array().begin(), aud->as_array().end(),
                         [&](const json::value& v) { return v.is_string() && v.as_string() == expect.audience; });
  if (!aud_ok)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("audience mismatch: expected {}, got {}", expect.audience,
                            aud == nullptr ? std::string("none") : json::serialize(*aud)));

  auto exp = NumericDate(claims, "exp");
  if (!exp) return std::unexpected(exp.error());
  if (!*exp) return Fail(ErrorCode::kInvalidArgument, "token refused: it has no expiry (exp)");
  if (now_s > **exp + leeway)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("token expired at {} (now {}, leeway {} s)", Iso(**exp), Iso(now_s), leeway));

  auto nbf = NumericDate(claims, "nbf");
  if (!nbf) return std::unexpected(nbf.error());
  if (*nbf && now_s + leeway < **nbf)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("token not valid before {} (now {}, leeway {} s)", Iso(**nbf), Iso(now_s), leeway));
  return {};
}

}  // namespace furrsight::api::auth
