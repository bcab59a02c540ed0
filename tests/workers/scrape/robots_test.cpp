#include "workers/scrape/robots.hpp"

#include <gtest/gtest.h>

#include "workers/scrape/robots_cache.hpp"
#include "workers/scrape/robots_directives.hpp"

namespace furrsight::workers {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kToken = "FurrSightBot";

TEST(RobotsTxt, LongestMatchWinsAndAllowWinsTies) {
  auto robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /gallery/\n"
      "Allow: /gallery/public/\n"
      "Disallow: /gallery/public/private.html\n"
      "Allow: /tie\n"
      "Disallow: /tie\n");
  EXPECT_TRUE(robots.IsAllowed(kToken, "/"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/gallery/"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/gallery/poodle.jpg"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/gallery/public/poodle.jpg"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/gallery/public/private.html"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/tie"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/galleryx"));  // a prefix of the path, not of a segment
}

TEST(RobotsTxt, WildcardsAndEndAnchor) {
  auto robots = RobotsTxt::Parse(
      "user-agent: *\n"
      "disallow: /*.php$\n"
      "disallow: /*sessionid=\n"
      "disallow: /private*/photos\n"
      "allow: /*.php$\n"  // same length as the disallow: allow wins
      "disallow: /exact$\n");
  EXPECT_TRUE(robots.IsAllowed(kToken, "/index.php"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/shop?sessionid=42"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/list?a=1&sessionid=42"));  // '*' crosses '?'
  EXPECT_FALSE(robots.IsAllowed(kToken, "/private-stuff/photos/1.jpg"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/private-stuff/videos"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/exact"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/exact/more"));
}

TEST(RobotsTxt, NamedGroupsAreCombinedAndReplaceStar) {
  auto robots = RobotsTxt::Parse(
      "User-agent: *\n"
      "Disallow: /\n"
      "\n"
      "User-agent: furrsightbot\n"
      "Disallow: /no-bots/\n"
      "\n"
      "User-agent: otherbot\n"
      "User-Agent: FurrSightBot/2.1\n"  // the version is ignored
      "Disallow: /also-no/\n"
      "Crawl-delay: 2.5\n");
  EXPECT_TRUE(robots.IsAllowed(kToken, "/gallery"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/no-bots/x"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/also-no/x"));
  EXPECT_FALSE(robots.IsAllowed("SomeoneElse", "/gallery"));
  EXPECT_EQ(robots.CrawlDelay(kToken), milliseconds(2500));
  EXPECT_FALSE(robots.CrawlDelay("SomeoneElse").has_value());
}

TEST(RobotsTxt, ConsecutiveUserAgentLinesShareAGroupAndRulesStartANewOne) {
  auto robots = RobotsTxt::Parse(
      "User-agent: a\n"
      "User-agent: FurrSightBot\n"
      "Disallow: /shared\n"
      "User-agent: b\n"
      "Disallow: /only-b\n");
  EXPECT_FALSE(robots.IsAllowed(kToken, "/shared"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/only-b"));
  EXPECT_FALSE(robots.IsAllowed("b", "/only-b"));
  EXPECT_TRUE(robots.IsAllowed("b", "/shared"));
}

TEST(RobotsTxt, CommentsCrLfBomEmptyDisallowAndGarbage) {
  auto robots = RobotsTxt::Parse(
      "\xEF\xBB\xBF# robots for the salon\r\n"
      "Disallow: /before-any-group\r\n"
      "User-agent: * # everyone\r\n"
      "Disallow:\r\n"
      "this line is nonsense\r\n"
      "Sitemap: https://salon.example/sitemap.xml\r\n"
      "Disallow: /cgi-bin # scripts\r\n");
  EXPECT_TRUE(robots.IsAllowed(kToken, "/before-any-group"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/cgi-bin/x"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/anything"));
  EXPECT_EQ(robots.sitemaps(), std::vector<std::string>{"https://salon.example/sitemap.xml"});
}

TEST(RobotsTxt, PatternsAreComparedInUrlNormalForm) {
  auto robots = RobotsTxt::Parse("User-agent: *\nDisallow: /caf\xC3\xA9/\nDisallow: /%7Euser/\nDisallow: /a%2fb\n");
  EXPECT_FALSE(robots.IsAllowed(kToken, "/caf%C3%A9/menu"));  // what Url makes of /café/menu
  EXPECT_FALSE(robots.IsAllowed(kToken, "/~user/x"));
  EXPECT_FALSE(robots.IsAllowed(kToken, "/a%2Fb"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/a/b"));  // an encoded slash is not a slash
}

TEST(RobotsTxt, RobotsTxtItselfIsAlwaysAllowedAndSpecialVerdicts) {
  auto robots = RobotsTxt::Parse("User-agent: *\nDisallow: /\n");
  EXPECT_FALSE(robots.IsAllowed(kToken, "/"));
  EXPECT_TRUE(robots.IsAllowed(kToken, "/robots.txt"));
  EXPECT_TRUE(RobotsTxt::AllowAll().IsAllowed(kToken, "/x"));
  EXPECT_FALSE(RobotsTxt::DisallowAll().IsAllowed(kToken, "/x"));
  EXPECT_TRUE(RobotsTxt::Parse("").IsAllowed(kToken, "/x"));
}

TEST(RobotsTxt, OnlyTheFirst500KiBAreRead) {
  std::string body = "User-agent: *\n";
  while (body.size() < RobotsTxt::kMaxBytes) body += "Allow: /filler\n";
  body += "Disallow: /late\n";
  EXPECT_TRUE(RobotsTxt::Parse(body).IsAllowed(kToken, "/late"));
}

TEST(RobotsTxt, ProductTokenOfUserAgent) {
  EXPECT_EQ(UserAgentProductToken("FurrSightBot/0.1 (+https://x)"), "FurrSightBot");
  EXPECT_EQ(UserAgentProductToken("  Bot"), "Bot");
}

FetchResult Fetched(int status, std::optional<FailureClass> failure, std::string body = "") {
  FetchResult r;
  r.status = status;
  r.failure = failure;
  r.body = std::move(body);
  return r;
}

TEST(RobotsEntry, StatusRulesOfRfc9309) {
  auto ok = RobotsEntryFromFetch(Fetched(200, std::nullopt, "User-agent: *\nDisallow: /x\n"));
  EXPECT_FALSE(ok.robots.IsAllowed(kToken, "/x"));
  EXPECT_TRUE(ok.robots.IsAllowed(kToken, "/y"));
  auto missing = RobotsEntryFromFetch(Fetched(404, FailureClass::kHttp4xx));
  EXPECT_TRUE(missing.robots.IsAllowed(kToken, "/x"));
  EXPECT_FALSE(missing.unreachable);
  auto server_error = RobotsEntryFromFetch(Fetched(503, FailureClass::kHttp5xx));
  EXPECT_FALSE(server_error.robots.IsAllowed(kToken, "/x"));
  EXPECT_FALSE(server_error.unreachable);
  EXPECT_EQ(server_error.detail, "robots.txt answered 503");
  auto too_many = RobotsEntryFromFetch(Fetched(429, FailureClass::kHttp4xx));
  EXPECT_FALSE(too_many.robots.IsAllowed(kToken, "/x"));
  auto dns = RobotsEntryFromFetch(Fetched(0, FailureClass::kDns));
  EXPECT_FALSE(dns.robots.IsAllowed(kToken, "/x"));
  EXPECT_EQ(dns.unreachable, FailureClass::kDns);
  auto loops = RobotsEntryFromFetch(Fetched(301, FailureClass::kRedirects));
  EXPECT_TRUE(loops.robots.IsAllowed(kToken, "/x"));
}

TEST(RobotsCache, EntriesExpireAfterTheirTtl) {
  RobotsCache cache(std::chrono::seconds(0));
  RobotsEntry entry;
  entry.fetched_at = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  cache.Store("http://a.example", entry);
  EXPECT_EQ(cache.Lookup("http://a.example"), nullptr);
  RobotsCache day;
  day.Store("http://a.example", RobotsEntry{RobotsTxt::DisallowAll(), std::nullopt, "", std::chrono::steady_clock::now()});
  ASSERT_NE(day.Lookup("http://a.example"), nullptr);
  EXPECT_FALSE(day.Lookup("http://a.example")->robots.IsAllowed(kToken, "/"));
  EXPECT_EQ(day.Lookup("https://a.example"), nullptr);  // another origin
}

TEST(RobotsDirectives, UnscopedAndScopedToUs) {
  auto d = ParseRobotsDirectives("noindex, FurrSightBot: noimageai, otherbot: nofollow, noai", kToken);
  EXPECT_TRUE(d.noindex);
  EXPECT_TRUE(d.noimageai);
  EXPECT_FALSE(d.nofollow);
  EXPECT_FALSE(d.noai);  // still scoped to otherbot
  EXPECT_TRUE(ParseRobotsDirectives("NoAI", kToken).ForbidsImageAi());
  EXPECT_TRUE(ParseRobotsDirectives("none", kToken).nofollow);
  auto valued = ParseRobotsDirectives("max-image-preview: large, noimageai", kToken);
  EXPECT_TRUE(valued.noimageai);  // "max-image-preview" is no agent name
  EXPECT_FALSE(ParseRobotsDirectives("otherbot: noai", kToken).ForbidsImageAi());
  EXPECT_FALSE(ParseRobotsDirectives("", kToken).ForbidsImageAi());
}

}  // namespace
}  // namespace furrsight::workers
