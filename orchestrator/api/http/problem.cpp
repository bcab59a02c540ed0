#include "orchestrator/api/http/problem.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "events/base/log.hpp"

namespace furrsight::api {

ApiResponse Problem(unsigned status, std::string_view code, std::string detail) {
  return Problem(status, code, std::move(detail), boost::json::object());
}

ApiResponse Problem(unsigned status, std::string_view code, std::string detail, const boost::json::object& extra) {
  boost::json::object object;
  object["type"] = std::string(kProblemTypePrefix) + std::string(code);
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  object["title"] = std::string_view(reason.data(), reason.size());
  object["status"] = status;
  object["code"] = code;
  object["detail"] = std::move(detail);
  for (const auto& member : extra) object[member.key()] = member.value();
  ApiResponse response = ApiResponse::Json(status, object);
  response.content_type = std::string(kProblemContentType);
  return response;
}

ApiResponse ProblemFromError(const base::Error& error) {
  using base::ErrorCode;
  switch (error.code) {
    case ErrorCode::kInvalidArgument: return Problem(400, "invalid_argument", error.message);
    case ErrorCode::kNotFound: return Problem(404, "not_found", error.message);
    case ErrorCode::kConflict: {
      boost::json::object extra;
      if (error.conflict) {
        extra["stream"] = error.conflict->stream_id;
        extra["expected"] = error.conflict->expected;
        extra["actual"] = error.conflict->actual;
      }
      return Problem(409, "conflict", error.message, extra);
    }
    case ErrorCode::kFailedPrecondition: return Problem(409, "failed_precondition", error.message);
    case ErrorCode::kUnavailable: return Problem(503, "unavailable", error.message);
    case ErrorCode::kTimeout: return Problem(504, "timeout", error.message);
    case ErrorCode::kInternal: break;
  }
  base::log::Error("api: internal error", {{"error", error.ToString()}});
  return Problem(500, "internal", "the server failed to handle the request; it has been logged");
}

void StampProblemRequestId(ApiResponse& response, std::string_view request_id) {
  if (response.content_type != kProblemContentType) return;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(response.body, ec);
  if (ec || !value.is_object()) return;
  value.as_object()["request_id"] = request_id;
  response.body = boost::json::serialize(value);
}

}  // namespace furrsight::api
