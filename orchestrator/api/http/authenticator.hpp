// Authenticator: turns a request's credentials into a Principal. The Router
// calls it for every non-public route, from several worker threads at once,
// so implementations must be thread-safe.
//
// Errors: kInvalidArgument, kNotFound or kFailedPrecondition (no, malformed,
// unknown, expired or revoked credentials) → 401 unauthenticated with
// WWW-Authenticate: Bearer; kUnavailable (e.g. the JWKS cannot be fetched) →
// 503 unavailable; anything else as ProblemFromError.
#pragma once

#include "events/base/error.hpp"
#include "orchestrator/api/http/api_request.hpp"
#include "orchestrator/api/http/principal.hpp"

namespace furrsight::api {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual base::Result<Principal> Authenticate(const ApiRequest& request) = 0;
};

}  // namespace furrsight::api
