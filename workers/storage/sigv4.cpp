#include "workers/storage/sigv4.hpp"

#include <ctime>

#include <fmt/format.h>

#include "events/base/sha256.hpp"
#include "workers/storage/hmac.hpp"

namespace furrsight::workers::sigv4 {

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  std::string out;
  for (char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) out += c;
    else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string CanonicalRequest::SignedHeaders() const {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string CanonicalRequest::Text() const {
  std::string out = fmt::format("{}\n{}\n{}\n", method, path, query);
  for (const auto& [name, value] : headers) out += fmt::format("{}:{}\n", name, value);
  out += fmt::format("\n{}\n{}", SignedHeaders(), payload_hash);
  return out;
}

std::string Scope(const Credentials& c, std::string_view amz_date) {
  return fmt::format("{}/{}/{}/aws4_request", amz_date.substr(0, 8), c.region, c.service);
}

std::string StringToSign(const Credentials& c, std::string_view amz_date, const CanonicalRequest& request) {
  return fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, Scope(c, amz_date), base::Sha256Hex(request.Text()));
}

std::string Signature(const Credentials& c, std::string_view amz_date, const CanonicalRequest& request) {
  std::string key = HmacSha256("AWS4" + c.secret_key, amz_date.substr(0, 8));
  key = HmacSha256(key, c.region);
  key = HmacSha256(key, c.service);
  key = HmacSha256(key, "aws4_request");
  return HmacSha256Hex(key, StringToSign(c, amz_date, request));
}

std::string AuthorizationHeader(const Credentials& c, std::string_view amz_date, const CanonicalRequest& request) {
  return fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm, c.access_key,
                     Scope(c, amz_date), request.SignedHeaders(), Signature(c, amz_date, request));
}

std::string HostOf(std::string_view endpoint) {
  std::string_view rest = endpoint;
  std::string_view default_port;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    default_port = ":443";
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    default_port = ":80";
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.ends_with(default_port)) rest.remove_suffix(default_port.size());
  return std::string(rest);
}

std::string PresignGetUrl(const Credentials& c, std::string_view endpoint, std::string_view path,
                          std::chrono::seconds expires, std::chrono::system_clock::time_point now) {
  const std::string amz_date = AmzDate(now);
  // Already in sorted order, as the canonical query string must be.
  const std::string query = fmt::format(
      "X-Amz-Algorithm={}&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires={}&X-Amz-SignedHeaders=host", kAlgorithm,
      UriEncode(fmt::format("{}/{}", c.access_key, Scope(c, amz_date)), true), amz_date, expires.count());
  CanonicalRequest request{.method = "GET",
                           .path = std::string(path),
                           .query = query,
                           .headers = {{"host", HostOf(endpoint)}},
                           .payload_hash = std::string(kUnsignedPayload)};
  std::string_view base = endpoint;
  while (base.ends_with('/')) base.remove_suffix(1);
  return fmt::format("{}{}?{}&X-Amz-Signature={}", base, path, query, Signature(c, amz_date, request));
}

}  // namespace furrsight::workers::sigv4
