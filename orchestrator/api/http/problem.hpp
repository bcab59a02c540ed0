// Problem details (RFC 9457): every error the API answers is
//   application/problem+json
//   {"type": "https://furrsight.dev/problems/<code>", "title": "...",
//    "status": 409, "code": "<stable_snake_case>", "detail": "...",
//    "request_id": "..."}
// plus, for some codes, extra members (a conflict's stream/expected/actual).
// "code" is the stable, machine-readable part; "detail" is for a person.
// The Router fills in request_id. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "orchestrator/api/http/api_response.hpp"

namespace furrsight::api {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
inline constexpr std::string_view kProblemTypePrefix = "https://furrsight.dev/problems/";

ApiResponse Problem(unsigned status, std::string_view code, std::string detail);
// The same, with extra members merged into the object.
ApiResponse Problem(unsigned status, std::string_view code, std::string detail, const boost::json::object& extra);

// kInvalidArgument → 400 invalid_argument, kNotFound → 404 not_found,
// kConflict → 409 conflict (+ stream, expected, actual when known),
// kFailedPrecondition → 409 failed_precondition, kUnavailable → 503
// unavailable, kTimeout → 504 timeout, kInternal → 500 internal (the detail
// is generic; the real message is only logged).
ApiResponse ProblemFromError(const base::Error& error);

// Sets "request_id" in a problem body (no-op for other responses).
void StampProblemRequestId(ApiResponse& response, std::string_view request_id);

}  // namespace furrsight::api
