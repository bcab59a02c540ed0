// JWT: a compact JWS (RFC 7515) parsed into its parts, its signature
// checked with OpenSSL 3's EVP interface, and its registered claims (RFC 7519)
// checked against what FurrSight expects.
//
// Only RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of 2048 bits or more)
// and ES256 (ECDSA on P-256 with SHA-256, signature as raw r||s) are accepted.
// "none", HS* (an HMAC keyed with whatever the verifier holds, the classic
// public-key-as-secret attack) and every other alg are refused before any key
// is looked at. Every failure is kInvalidArgument with a message saying what
// was wrong. Free functions, no state; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "events/base/error.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace furrsight::api::auth {

enum class JwtAlg { kRs256, kEs256 };

struct Jwt {
  JwtAlg alg = JwtAlg::kRs256;
  std::string kid;                  // the header's key id; empty when absent
  boost::json::object header;
  boost::json::object claims;       // the payload
  std::string signing_input;        // "<header b64>.<payload b64>", what was signed
  std::string signature;            // decoded bytes (ES256: 64 bytes r||s)
};

// Splits and decodes a compact JWS. Refuses anything but three base64url
// parts whose first two are JSON objects, and any alg but RS256 and ES256.
base::Result<Jwt> ParseJwt(std::string_view token);

// Checks the signature with `key` (an RSA key for RS256, a P-256 key for ES256).
base::Result<void> VerifyJwtSignature(const Jwt& jwt, EVP_PKEY* key);

struct ClaimExpectations {
  std::string issuer;    // iss must equal it
  std::string audience;  // aud (a string or an array of strings) must contain it
  std::chrono::seconds leeway{60};  // clock skew allowed for exp and nbf
};

// iss, aud, exp (required) and nbf (when present) at `now`.
base::Result<void> CheckJwtClaims(const boost::json::object& claims, const ClaimExpectations& expect,
                                  std::chrono::system_clock::time_point now);

// "RS256" / "ES256"
std::string_view JwtAlgName(JwtAlg alg);

// ES256 signatures: JWS carries r||s (32 bytes each), OpenSSL wants and
// produces DER. Empty result when the input is malformed.
std::string EcdsaRawToDer(std::string_view raw);
std::string EcdsaDerToRaw(std::string_view der);

}  // namespace furrsight::api::auth
