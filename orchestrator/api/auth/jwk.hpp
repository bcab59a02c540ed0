// Jwk: one public key of a JSON Web Key Set (RFC 7517/7518) as an OpenSSL
// EVP_PKEY — RSA (n, e) and EC P-256 (x, y). Keys of other types or curves,
// and private keys' extra members, are not needed to verify and are ignored
// by the caller (ParseJwk reports them as kInvalidArgument). Stateless;
// thread-safe.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "events/base/error.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace furrsight::api::auth {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct Jwk {
  std::string kid;
  std::string kty;  // "RSA" or "EC"
  std::string alg;  // as the set names it; may be empty
  PkeyPtr key;
};

base::Result<Jwk> ParseJwk(const boost::json::object& jwk);

}  // namespace furrsight::api::auth
