// Url: an absolute http or https URL in normal form, the crawler's identity
// for a page or an image (two URLs are the same resource iff their spec()s are
// equal). Normal form, applied by Parse and Resolve:
//   - leading/trailing spaces and C0 controls trimmed, tabs and newlines removed,
//     '\' read as '/' before the query (as browsers do);
//   - scheme and host lower-case; one trailing '.' of the host dropped; numeric
//     IPv4 hosts in canonical dotted form ("0x7f.1" -> "127.0.0.1"); IPv6 in
//     RFC 5952 form; default ports (80, 443) dropped; user:password@ dropped;
//   - percent-encoding normalised: escapes of unreserved characters decoded,
//     the others upper-case hex; bytes not allowed in the path or query
//     (space, non-ASCII, '"', '<', ...) encoded; a stray '%' becomes %25;
//   - dot segments removed (RFC 3986 5.2.4); an empty path becomes "/";
//   - an empty query and the fragment dropped.
// Non-ASCII host names are kept as UTF-8 (lower-cased ASCII only); libcurl
// converts them with IDN when it connects.
// A value type: immutable after construction, safe to share between threads.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "events/base/error.hpp"

namespace furrsight::workers {

class Url {
 public:
  // The empty URL (spec() == ""): a placeholder in structs, never fetched.
  Url() = default;
  bool empty() const { return spec_.empty(); }

  // An absolute http(s) URL; kInvalidArgument for anything else
  // (other schemes, no host, a bad port or host).
  static base::Result<Url> Parse(std::string_view text);
  // `reference` (absolute, scheme-relative, absolute-path, relative path,
  // query-only or fragment-only) resolved against `base` per RFC 3986 5.2.
  static base::Result<Url> Resolve(const Url& base, std::string_view reference);

  const std::string& spec() const { return spec_; }
  const std::string& scheme() const { return scheme_; }  // "http" or "https"
  const std::string& host() const { return host_; }      // IPv6 in brackets
  int port() const;                                       // effective: 80/443 when none was given
  const std::string& path() const { return path_; }      // starts with '/'
  const std::string& query() const { return query_; }    // without '?'; empty when none
  std::string PathAndQuery() const;                       // "/a/b?c=1": what robots.txt rules match
  std::string Origin() const;                             // "https://example.com:8443"
  std::string RobotsUrl() const { return Origin() + "/robots.txt"; }
  // The path's last segment ends in .jpg .jpeg .png .gif .webp .avif or .bmp.
  bool HasImageExtension() const;

  friend bool operator==(const Url& a, const Url& b) { return a.spec_ == b.spec_; }
  friend std::strong_ordering operator<=>(const Url& a, const Url& b) { return a.spec_ <=> b.spec_; }

 private:
  std::string scheme_;
  std::string host_;
  int port_ = 0;  // 0: the scheme's default
  std::string path_;
  std::string query_;
  std::string spec_;
};

// Percent-encoding normalisation of a path (or, with `query`, a query):
// what Url applies, exposed for robots.txt patterns. '*' and '$' pass through.
std::string NormalizePercentEncoding(std::string_view text, bool query = false);

// The lower-case scheme of a URL reference ("Mailto:x" -> "mailto"); empty
// for a relative one.
std::string SchemeOf(std::string_view reference);

// RFC 3986 5.2.4 remove_dot_segments.
std::string RemoveDotSegments(std::string_view path);

}  // namespace furrsight::workers
