// RobotsTxt: a parsed robots.txt and its matcher, per RFC 9309.
//   - Groups start at one or more consecutive `user-agent` lines. The crawler
//     obeys every group naming its product token (case-insensitive; a value
//     like "FurrSightBot/1.0" names the token "FurrSightBot"), combined; if
//     none does, every `*` group, combined; if there is none, everything is
//     allowed.
//   - The longest matching rule (in octets of its pattern) wins; between an
//     allow and a disallow of the same length, allow wins. `*` matches any
//     run of characters, a final `$` anchors the end. Patterns and paths are
//     compared in the same percent-encoding normal form as Url's.
//   - `/robots.txt` itself is always allowed. Unknown lines are ignored; a
//     malformed file still parses (to whatever rules it has).
//   - `crawl-delay` (not in RFC 9309, widely used) is read from the same group.
// Fetch-status rules (4xx: allow all; 5xx or unreachable: disallow all) belong
// to whoever fetched the file (see Crawler).
// A value: immutable after Parse, safe to share between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace furrsight::workers {

class RobotsTxt {
 public:
  // RFC 9309 2.5: parsers must take at least 500 KiB; the rest is ignored.
  static constexpr std::size_t kMaxBytes = 512 * 1024;

  static RobotsTxt Parse(std::string_view body);
  static RobotsTxt AllowAll() { return RobotsTxt(); }
  static RobotsTxt DisallowAll();

  // `path_and_query`: the URL's path and query as Url::PathAndQuery() gives it.
  bool IsAllowed(std::string_view product_token, std::string_view path_and_query) const;
  std::optional<std::chrono::milliseconds> CrawlDelay(std::string_view product_token) const;
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct Rule {
    bool allow = false;
    std::string pattern;  // normalised
  };
  struct Group {
    std::vector<std::string> agents;  // lower-case product tokens, or "*"
    std::vector<Rule> rules;
    std::optional<std::chrono::milliseconds> crawl_delay;
  };

  // The groups that apply to `product_token` (RFC 9309 2.2.1).
  std::vector<const Group*> GroupsFor(std::string_view product_token) const;

  std::vector<Group> groups_;
  std::vector<std::string> sitemaps_;
  bool disallow_all_ = false;
};

// The product token of a User-Agent: "FurrSightBot/0.1 (+https://...)" ->
// "FurrSightBot". What robots.txt groups and scoped directives are matched on.
std::string UserAgentProductToken(std::string_view user_agent);

// Does `pattern` (robots syntax: `*`, final `$`) match the start of `path`?
bool RobotsPatternMatches(std::string_view pattern, std::string_view path);

}  // namespace furrsight::workers
