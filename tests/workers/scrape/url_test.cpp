#include "workers/scrape/url.hpp"

#include <gtest/gtest.h>

namespace furrsight::workers {
namespace {

std::string Norm(std::string_view text) {
  auto url = Url::Parse(text);
  return url ? url->spec() : "ERROR: " + url.error().message;
}

std::string Resolve(std::string_view base, std::string_view reference) {
  auto b = Url::Parse(base);
  if (!b) return "BASE ERROR";
  auto url = Url::Resolve(*b, reference);
  return url ? url->spec() : "ERROR";
}

TEST(Url, SchemeAndHostAreLowerCasedAndDefaultPortsDropped) {
  EXPECT_EQ(Norm("HTTP://Example.COM:80/Path"), "http://example.com/Path");
  EXPECT_EQ(Norm("https://Example.com:443"), "https://example.com/");
  EXPECT_EQ(Norm("https://example.com:80/"), "https://example.com:80/");
  EXPECT_EQ(Norm("http://example.com:8080/a"), "http://example.com:8080/a");
}

TEST(Url, FragmentAndEmptyQueryAreDropped) {
  EXPECT_EQ(Norm("http://a.com/x?#frag"), "http://a.com/x");
  EXPECT_EQ(Norm("http://a.com/x?q=1#frag"), "http://a.com/x?q=1");
  EXPECT_EQ(Norm("http://a.com#top"), "http://a.com/");
}

TEST(Url, PercentEncodingIsNormalised) {
  // Unreserved escapes decoded, the others upper-case; stray % escaped.
  EXPECT_EQ(Norm("http://a.com/%7euser/%41b%2fc"), "http://a.com/~user/Ab%2Fc");
  EXPECT_EQ(Norm("http://a.com/100%"), "http://a.com/100%25");
  EXPECT_EQ(Norm("http://a.com/a b/\xC3\xBC"), "http://a.com/a%20b/%C3%BC");
  EXPECT_EQ(Norm("http://a.com/p?q=a b&r=%2b&s=%7E"), "http://a.com/p?q=a%20b&r=%2B&s=~");
  EXPECT_EQ(Norm("http://a.com/\"<>^`{|}"), "http://a.com/%22%3C%3E%5E%60%7B%7C%7D");
}

TEST(Url, DotSegmentsAreRemoved) {
  EXPECT_EQ(Norm("http://a.com/a/./b/../c"), "http://a.com/a/c");
  EXPECT_EQ(Norm("http://a.com/../../x"), "http://a.com/x");
  EXPECT_EQ(Norm("http://a.com/a/%2e%2E/b"), "http://a.com/b");  // encoded dots are dots
  EXPECT_EQ(Norm("http://a.com/a/b/.."), "http://a.com/a/");
}

TEST(Url, BrowserLeniencyIsKept) {
  EXPECT_EQ(Norm("  http://a.com/x\n\ty  "), "http://a.com/xy");
  EXPECT_EQ(Norm("http:\\\\a.com\\b\\c?d\\e"), "http://a.com/b/c?d%5Ce");
  EXPECT_EQ(Norm("http://user:secret@a.com/"), "http://a.com/");
  EXPECT_EQ(Norm("http://a.com./"), "http://a.com/");
}

TEST(Url, NumericHostsAreCanonical) {
  EXPECT_EQ(Norm("http://0x7f.1/"), "http://127.0.0.1/");
  EXPECT_EQ(Norm("http://2130706433/"), "http://127.0.0.1/");
  EXPECT_EQ(Norm("http://0177.0.0.01/"), "http://127.0.0.1/");
  EXPECT_EQ(Norm("http://[::FFFF:127.0.0.1]:80/"), "http://[::ffff:127.0.0.1]/");
  EXPECT_EQ(Norm("http://[2001:DB8:0:0:0::1]:8080/"), "http://[2001:db8::1]:8080/");
  EXPECT_TRUE(Norm("http://256.1.1.1.1/").starts_with("ERROR"));
  EXPECT_TRUE(Norm("http://1.2.3.256/").starts_with("ERROR"));
}

TEST(Url, NonHttpAndMalformedAreRefused) {
  for (std::string_view bad : {"ftp://a.com/x", "javascript:alert(1)", "mailto:a@b.c", "file:///etc/passwd",
                               "data:image/png;base64,AAAA", "a.com/x", "http://", "http://a b.com/",
                               "http://a.com:99999/", "http://a.com:12x/", "http://[::1/"}) {
    EXPECT_FALSE(Url::Parse(bad).has_value()) << bad;
  }
}

TEST(Url, ResolvesReferencesPerRfc3986) {
  // RFC 3986 5.4.1 normal examples (base http://a/b/c/d;p?q).
  const std::string base = "http://a/b/c/d;p?q";
  EXPECT_EQ(Resolve(base, "g"), "http://a/b/c/g");
  EXPECT_EQ(Resolve(base, "./g"), "http://a/b/c/g");
  EXPECT_EQ(Resolve(base, "g/"), "http://a/b/c/g/");
  EXPECT_EQ(Resolve(base, "/g"), "http://a/g");
  EXPECT_EQ(Resolve(base, "//g"), "http://g/");
  EXPECT_EQ(Resolve(base, "?y"), "http://a/b/c/d;p?y");
  EXPECT_EQ(Resolve(base, "g?y"), "http://a/b/c/g?y");
  EXPECT_EQ(Resolve(base, "#s"), "http://a/b/c/d;p?q");
  EXPECT_EQ(Resolve(base, ""), "http://a/b/c/d;p?q");
  EXPECT_EQ(Resolve(base, "."), "http://a/b/c/");
  EXPECT_EQ(Resolve(base, ".."), "http://a/b/");
  EXPECT_EQ(Resolve(base, "../g"), "http://a/b/g");
  EXPECT_EQ(Resolve(base, "../../g"), "http://a/g");
  EXPECT_EQ(Resolve(base, "../../../g"), "http://a/g");
  EXPECT_EQ(Resolve(base, "g;x=1/../y"), "http://a/b/c/y");
  EXPECT_EQ(Resolve("https://a.com/x/", "//cdn.b.com/i.jpg"), "https://cdn.b.com/i.jpg");
  EXPECT_EQ(Resolve("http://a.com/x/", "HTTPS://B.com/"), "https://b.com/");
  EXPECT_EQ(Resolve("http://a.com/x/", "javascript:void(0)"), "ERROR");
  EXPECT_EQ(Resolve("http://a.com/x/", "mailto:groomer@a.com"), "ERROR");
}

TEST(Url, EquivalentSpellingsAreOneUrl) {
  auto a = Url::Parse("HTTP://WWW.Groomers.example:80/gallery/./before%2Dafter/?#x");
  auto b = Url::Parse("http://www.groomers.example/gallery/before-after/");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
}

TEST(Url, PartsOriginAndImageExtension) {
  auto url = Url::Parse("https://Cdn.Example.com:8443/img/Poodle-AFTER.JPG?w=800");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme(), "https");
  EXPECT_EQ(url->host(), "cdn.example.com");
  EXPECT_EQ(url->port(), 8443);
  EXPECT_EQ(url->path(), "/img/Poodle-AFTER.JPG");
  EXPECT_EQ(url->query(), "w=800");
  EXPECT_EQ(url->PathAndQuery(), "/img/Poodle-AFTER.JPG?w=800");
  EXPECT_EQ(url->Origin(), "https://cdn.example.com:8443");
  EXPECT_EQ(url->RobotsUrl(), "https://cdn.example.com:8443/robots.txt");
  EXPECT_TRUE(url->HasImageExtension());
  EXPECT_FALSE(Url::Parse("http://a.com/jpg")->HasImageExtension());
  EXPECT_FALSE(Url::Parse("http://a.com/.jpg/page")->HasImageExtension());
  EXPECT_EQ(Url::Parse("http://a.com/")->port(), 80);
}

TEST(Url, SchemeOfReference) {
  EXPECT_EQ(SchemeOf("Mailto:x@y"), "mailto");
  EXPECT_EQ(SchemeOf("/relative/path"), "");
  EXPECT_EQ(SchemeOf("g:h"), "g");
  EXPECT_EQ(SchemeOf("./a:b"), "");
}

}  // namespace
}  // namespace furrsight::workers
