#include "workers/scrape/robots.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "workers/scrape/url.hpp"

namespace furrsight::workers {
namespace {

constexpr double kMaxCrawlDelaySeconds = 24 * 3600;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "FurrSightBot/1.0 (+https://...)" -> "furrsightbot"; "*" -> "*".
std::string ProductToken(std::string_view value) {
  value = Trim(value);
  if (value.starts_with('*')) return "*";
  std::size_t end = 0;
  while (end < value.size() && ((value[end] >= 'a' && value[end] <= 'z') || (value[end] >= 'A' && value[end] <= 'Z') ||
                                value[end] == '_' || value[end] == '-'))
    ++end;
  return LowerAscii(value.substr(0, end));
}

// Normalises a rule's path like Url normalises paths, keeping '*' and '$'.
std::string NormalizePattern(std::string_view pattern) {
  std::size_t question = pattern.find('?');
  if (question == std::string_view::npos) return NormalizePercentEncoding(pattern);
  return NormalizePercentEncoding(pattern.substr(0, question)) + "?" +
         NormalizePercentEncoding(pattern.substr(question + 1), true);
}

}  // namespace

std::string UserAgentProductToken(std::string_view user_agent) {
  user_agent = Trim(user_agent);
  std::size_t end = 0;
  while (end < user_agent.size() && user_agent[end] != '/' && user_agent[end] != ' ') ++end;
  return std::string(user_agent.substr(0, end));
}

bool RobotsPatternMatches(std::string_view pattern, std::string_view path) {
  bool anchored = pattern.ends_with('$');
  if (anchored) pattern.remove_suffix(1);
  // Glob matching where '*' matches any run; without '$' the pattern only
  // needs to match a prefix, as if it ended in '*'.
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_s = 0;
  while (s < path.size()) {
    if (p == pattern.size() && !anchored) return true;
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_s = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++star_s;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

RobotsTxt RobotsTxt::DisallowAll() {
  RobotsTxt robots;
  robots.disallow_all_ = true;
  return robots;
}

RobotsTxt RobotsTxt::Parse(std::string_view body) {
  body = body.substr(0, kMaxBytes);
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  RobotsTxt robots;
  bool in_agent_lines = false;  // the previous directive was a user-agent line
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    start = end + 1;
    line = line.substr(0, line.find('#'));
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key = LowerAscii(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));

    if (key == "user-agent" || key == "useragent" || key == "user agent") {
      if (!in_agent_lines) robots.groups_.emplace_back();
      in_agent_lines = true;
      std::string token = ProductToken(value);
      if (!token.empty()) robots.groups_.back().agents.push_back(std::move(token));
      continue;
    }
    if (key == "sitemap") {
      robots.sitemaps_.emplace_back(value);
      continue;
    }
    bool allow = key == "allow";
    bool disallow = key == "disallow" || key == "dissallow" || key == "disalow";
    bool delay = key == "crawl-delay" || key == "crawldelay";
    if (!allow && !disallow && !delay) continue;
    in_agent_lines = false;
    if (robots.groups_.empty()) continue;  // rules before any user-agent line
    Group& group = robots.groups_.back();
    if (delay) {
      double seconds = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      if (ec == std::errc() && std::isfinite(seconds) && seconds >= 0 && seconds <= kMaxCrawlDelaySeconds)
        group.crawl_delay = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
      continue;
    }
    if (value.empty()) continue;  // "Disallow:" with no path disallows nothing
    std::string pattern = NormalizePattern(value);
    if (!pattern.starts_with('/') && !pattern.starts_with('*')) pattern.insert(0, "/");
    group.rules.push_back({allow, std::move(pattern)});
  }
  return robots;
}

std::vector<const RobotsTxt::Group*> RobotsTxt::GroupsFor(std::string_view product_token) const {
  std::string token = LowerAscii(product_token);
  std::vector<const Group*> named;
  std::vector<const Group*> star;
  for (const auto& group : groups_) {
    if (std::find(group.agents.begin(), group.agents.end(), token) != group.agents.end()) named.push_back(&group);
    if (std::find(group.agents.begin(), group.agents.end(), "*") != group.agents.end()) star.push_back(&group);
  }
  return named.empty() ? star : named;
}

bool RobotsTxt::IsAllowed(std::string_view product_token, std::string_view path_and_query) const {
  if (path_and_query == "/robots.txt") return true;
  if (disallow_all_) return false;
  const Rule* best = nullptr;
  for (const Group* group : GroupsFor(product_token)) {
    for (const Rule& rule : group->rules) {
      if (!RobotsPatternMatches(rule.pattern, path_and_query)) continue;
      if (best == nullptr || rule.pattern.size() > best->pattern.size() ||
          (rule.pattern.size() == best->pattern.size() && rule.allow && !best->allow))
        best = &rule;
    }
  }
  return best == nullptr || best->allow;
}

std::optional<std::chrono::milliseconds> RobotsTxt::CrawlDelay(std::string_view product_token) const {
  std::optional<std::chrono::milliseconds> delay;
  for (const Group* group : GroupsFor(product_token))
    if (group->crawl_delay && (!delay || *group->crawl_delay > *delay)) delay = group->crawl_delay;
  return delay;
}

}  // namespace furrsight::workers
