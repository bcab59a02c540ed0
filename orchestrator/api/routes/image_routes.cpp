// Images and other blobs. GET /api/v1/images/{sha256} (authenticated)
// answers a redirect to a short-lived presigned URL: S3's own, or — for the
// file store — /api/v1/blobs/<key>?expires=&signature=, which this API serves
// after checking the signature (the link itself is the credential, so an
// <img> tag or a download manager can follow it). Export downloads use the
// same links.
#include <chrono>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "orchestrator/api/http/problem.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "workers/storage/filesystem_blob_store.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using base::ErrorCode;
using base::Fail;

inline constexpr auto kImageLinkLifetime = std::chrono::minutes(10);

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

base::Result<ApiResponse> Image(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  const auto sha = req.Param("sha256");
  if (!IsSha256Hex(sha))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not an image id (64 lower-case hex digits of its SHA-256)", sha));
  const auto key = workers::ContentKey(sha);
  auto head = s.blobs.Head(key);
  if (!head) {
    if (head.error().code == ErrorCode::kNotFound) return Fail(ErrorCode::kNotFound, fmt::format("no image {}", sha));
    return std::unexpected(head.error());
  }
  auto url = s.blobs.PresignGet(key, std::chrono::duration_cast<std::chrono::seconds>(kImageLinkLifetime));
  if (!url) return std::unexpected(url.error());
  return ApiResponse::Redirect(*url).WithHeader("Cache-Control", "private, max-age=300");
}

base::Result<ApiResponse> Blob(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"expires", "signature"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  const auto key = std::string(req.Param("key"));
  if (s.file_blobs == nullptr)
    return Fail(ErrorCode::kNotFound, "blobs are kept in S3 here; use the presigned S3 link the API gave out");
  auto ok = s.file_blobs->VerifyPresigned(key, StringParam(req, "expires"), StringParam(req, "signature"),
                                          std::chrono::system_clock::now());
  if (!ok) {
    if (ok.error().code == ErrorCode::kFailedPrecondition)
      return Problem(403, "link_expired", ok.error().message + "; ask the API for a new link");
    return Problem(403, "bad_signature", ok.error().message);
  }
  auto head = s.blobs.Head(key);
  if (!head) return std::unexpected(head.error());
  return ApiResponse::File(head->content_type.empty() ? std::string(workers::kDefaultContentType) : head->content_type,
                           s.file_blobs->PathOf(key))
      .WithHeader("Cache-Control", "private, max-age=300");
}

}  // namespace

void AddImageRoutes(Router& router, ApiServices& s) {
  router.Add({http::verb::get, "/api/v1/images/{sha256}", roles::kReaders, false,
              "An image by SHA-256: a redirect to a presigned link valid for 10 minutes",
              [&s](const ApiRequest& req, const Principal&) { return Image(s, req); }});
  router.Add({http::verb::get, "/api/v1/blobs/{key...}", {}, true,
              "A blob by presigned link (?expires=&signature=; the link is the credential)",
              [&s](const ApiRequest& req, const Principal&) { return Blob(s, req); }});
}

}  // namespace furrsight::api
