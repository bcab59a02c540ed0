// FailureClass: why one fetch of a crawl did not give what it was asked for,
// in the classes a SCRAPE_URL job reports; FailureCounts: a counter per class.
// Plain values: thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/json/object.hpp>

namespace furrsight::workers {

enum class FailureClass {
  kDns,        // the name did not resolve
  kConnect,    // no connection, or it broke mid-transfer
  kTimeout,    // connect or total timeout
  kTls,        // TLS handshake or certificate
  kHttp4xx,    // a 4xx answer (429 once its retries are spent)
  kHttp5xx,    // a 5xx answer
  kTooLarge,   // more bytes than the cap (declared or streamed)
  kNotImage,   // an image URL whose first bytes are no image format we take
  kNotHtml,    // a page URL that is neither HTML nor an image
  kRobots,     // refused by robots.txt (or robots.txt answered 5xx/429)
  kNoai,       // X-Robots-Tag or <meta name=robots> says noai / noimageai
  kSsrf,       // the address connected to (or the scheme) is not allowed
  kRedirects,  // more redirects than allowed, or a redirect without a usable Location
  kBadUrl,     // the URL does not parse or is not http/https
  kSearch,     // the search provider failed for a query
  kOther,
};

inline constexpr std::size_t kFailureClassCount = static_cast<std::size_t>(FailureClass::kOther) + 1;

// "dns", "connect", "timeout", "tls", "http_4xx", "http_5xx", "too_large",
// "not_image", "not_html", "robots", "noai", "ssrf", "redirects", "bad_url",
// "search", "other".
std::string_view FailureClassName(FailureClass failure);
std::optional<FailureClass> ParseFailureClass(std::string_view name);

class FailureCounts {
 public:
  void Add(FailureClass failure, int count = 1) { counts_[Index(failure)] += count; }
  int Get(FailureClass failure) const { return counts_[Index(failure)]; }
  int Total() const;
  // Every class, zeros included, so the job result always has the same shape.
  boost::json::object ToJson() const;

 private:
  static std::size_t Index(FailureClass f) { return static_cast<std::size_t>(f); }
  std::array<int, kFailureClassCount> counts_{};
};

}  // namespace furrsight::workers
