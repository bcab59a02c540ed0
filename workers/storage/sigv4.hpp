// AWS Signature Version 4 for S3, as pure functions: the canonical request,
// the signature, and presigned GET URLs (query-string signing, which libcurl
// cannot do). S3BlobStore lets libcurl sign its own requests
// (CURLOPT_AWS_SIGV4); these functions make the presigned URLs and, in the
// tests, check libcurl's signatures against AWS's published examples.
// Stateless; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrsight::workers::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};  // S3 refuses more than 7 days

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string service = "s3";
};

// "20130524T000000Z" (UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);
// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters as
// they are, '/' kept unless `encode_slash`, everything else %XX (upper case).
std::string UriEncode(std::string_view text, bool encode_slash);

struct CanonicalRequest {
  std::string method;
  std::string path;   // URI-encoded, e.g. "/bucket/key"
  std::string query;  // canonical query string (encoded, sorted), may be empty
  // Lower-case names with trimmed values, sorted by name: the signed headers.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;

  std::string Text() const;
  std::string SignedHeaders() const;  // "host;x-amz-date"
};

// "20130524/us-east-1/s3/aws4_request"
std::string Scope(const Credentials& credentials, std::string_view amz_date);
std::string StringToSign(const Credentials& credentials, std::string_view amz_date,
                         const CanonicalRequest& request);
// Hex signature of `request` made at `amz_date`.
std::string Signature(const Credentials& credentials, std::string_view amz_date, const CanonicalRequest& request);
// The value of the Authorization header.
std::string AuthorizationHeader(const Credentials& credentials, std::string_view amz_date,
                                const CanonicalRequest& request);

// A presigned GET of `path` (URI-encoded, e.g. "/bucket/key") at `endpoint`
// ("scheme://host[:port]"), signed at `now`, valid for `expires`
// (1 s to kMaxPresignExpiry; the caller checks). Only the host header is
// signed, and the payload is UNSIGNED-PAYLOAD, as S3 requires.
std::string PresignGetUrl(const Credentials& credentials, std::string_view endpoint, std::string_view path,
                          std::chrono::seconds expires, std::chrono::system_clock::time_point now);

// The Host header for an endpoint: host[:port], without a scheme's default port.
std::string HostOf(std::string_view endpoint);

}  // namespace furrsight::workers::sigv4
