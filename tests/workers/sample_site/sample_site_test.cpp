// The sample site, generated and served in-process on a free loopback port,
// checked from the outside with plain libcurl (and the program once, as a
// child process).
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "workers/sample_site/sample_site_server.hpp"
#include "workers/scrape/html_extract.hpp"
#include "workers/sample_site/site_handler.hpp"

namespace furrsight::workers::sample_site {
namespace {

constexpr std::uint32_t kSeed = 11;
constexpr std::chrono::milliseconds kSlowDelay{200};

struct Fetched {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case; the last value wins
  long new_connections = 0;
  std::chrono::milliseconds elapsed{0};

  std::string Header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct FetchOptions {
  bool head = false;
  std::size_t max_body = 0;  // > 0: abort the transfer once this many body bytes arrived
};

// One libcurl easy handle: requests through the same Client reuse its connection (keep-alive).
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  ~Client() { curl_easy_cleanup(curl_); }

  Fetched Get(const std::string& url, const FetchOptions& options = {}) {
    Fetched out;
    Sink sink{&out, options.max_body};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOBODY, options.head ? 1L : 0L);
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, options.head ? 0L : 1L);
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_PROXY, "");
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "sample-site-test");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Client::Write);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Client::Header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &out);
    const auto start = std::chrono::steady_clock::now();
    const CURLcode rc = curl_easy_perform(curl_);
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && options.max_body > 0))
      ADD_FAILURE() << url << ": " << curl_easy_strerror(rc);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &out.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &out.new_connections);
    return out;
  }

 private:
  struct Sink {
    Fetched* out;
    std::size_t max_body;
  };
  static std::size_t Write(char* data, std::size_t size, std::size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    sink->out->body.append(data, size * n);
    if (sink->max_body > 0 && sink->out->body.size() >= sink->max_body) return 0;  // abort
    return size * n;
  }
  static std::size_t Header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* out = static_cast<Fetched*>(user);
    std::string line(data, size * n);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of("\r\n \t") + 1);
      out->headers[name] = value;
    }
    return size * n;
  }
  CURL* curl_;
};

bool IsJpeg(std::string_view b) { return b.size() > 3 && b.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3); }
bool IsPng(std::string_view b) { return b.size() > 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8); }

SiteOptions TestOptions() {
  SiteOptions o;
  o.seed = kSeed;
  o.slow_delay = kSlowDelay;
  o.retry_after_seconds = 1;
  return o;
}

class SampleSiteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    auto started = StartSampleSite(TestOptions());
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
    server_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::string Url(std::string_view path) { return AbsoluteUrl(server_->base_url(), path); }
  static const GroundTruth& Truth() { return server_->ground_truth(); }
  static std::vector<const TruePair*> PairsOf(Cue cue) {
    std::vector<const TruePair*> out;
    for (const TruePair& p : Truth().pairs)
      if (p.cue == cue) out.push_back(&p);
    return out;
  }

  static SampleSiteServer* server_;
  Client client_;
};

SampleSiteServer* SampleSiteTest::server_ = nullptr;

TEST_F(SampleSiteTest, RobotsTxtDisallowsThePrivateFolder) {
  const Fetched r = client_.Get(Url("/robots.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.Header("content-type").starts_with("text/plain")) << r.Header("content-type");
  EXPECT_NE(r.body.find("User-agent: *\nDisallow: /private/\n"), std::string::npos) << r.body;
  // Everything listed as robots-forbidden is under it.
  int robots = 0;
  for (const NeverFetch& n : Truth().never_fetch)
    if (n.reason == "robots") {
      ++robots;
      EXPECT_TRUE(n.url.starts_with("/private/")) << n.url;
    }
  EXPECT_GE(robots, 4);
}

TEST_F(SampleSiteTest, GalleryPageShowsItsPairsWithBeforeAndAfterAltText) {
  const std::vector<const TruePair*> alt = PairsOf(Cue::kAlt);
  ASSERT_FALSE(alt.empty());
  const std::string page_path = alt.front()->page_path;
  const Fetched page = client_.Get(Url(page_path));
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(page.Header("content-type").starts_with("text/html"));
  int on_page = 0;
  for (const TruePair* p : alt) {
    if (p->page_path != page_path) continue;
    ++on_page;
    for (const auto& [path, word] : {std::pair{p->before_path, "before"}, std::pair{p->after_path, "after"}}) {
      const std::size_t at = page.body.find(fmt::format("src=\"{}\"", path));
      ASSERT_NE(at, std::string::npos) << path;
      const std::size_t alt_at = page.body.find("alt=\"", at);
      const std::string alt_text = page.body.substr(alt_at + 5, page.body.find('"', alt_at + 5) - alt_at - 5);
      EXPECT_NE(fmt::format("{}", alt_text).find(word), std::string::npos)
          << alt_text << " should say " << word;
      const Fetched image = client_.Get(Url(path));
      EXPECT_EQ(image.status, 200);
      EXPECT_EQ(image.Header("content-type"), "image/jpeg");
      EXPECT_TRUE(IsJpeg(image.body));
      EXPECT_EQ(image.body, *server_->site().Find(path)->body);
    }
  }
  EXPECT_EQ(on_page, 3);
}

TEST_F(SampleSiteTest, GroundTruthListsAtLeastTenPairsOfEachCueAndEveryOneIsServed) {
  const Fetched r = client_.Get(Url("/ground-truth.json"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  const boost::json::value truth = boost::json::parse(r.body);
  const auto& pairs = truth.at("pairs").as_array();
  std::map<std::string, int> per_cue;
  std::set<std::string> never;
  for (const auto& n : truth.at("never_fetch").as_array()) never.insert(std::string(n.at("url").as_string()));
  std::set<std::string> checked;
  // The rate-limited page is RateLimitedPageAnswers429WithRetryAfterThen200's to ask first.
  for (const Hazard& h : Truth().hazards)
    if (h.kind == "rate-limited") checked.insert(Url(h.path));
  for (const auto& v : pairs) {
    const auto& p = v.as_object();
    const std::string cue(p.at("cue").as_string());
    ++per_cue[cue];
    const std::string before(p.at("before_url").as_string());
    const std::string after(p.at("after_url").as_string());
    EXPECT_TRUE(before.starts_with(server_->base_url() + "/")) << before;
    if (cue.starts_with("composite")) {
      EXPECT_EQ(before, after);
    } else {
      EXPECT_NE(before, after);
    }
    for (const std::string& url : {std::string(p.at("page_url").as_string()), before, after}) {
      EXPECT_FALSE(never.contains(url)) << url;
      if (!checked.insert(url).second) continue;
      const Fetched f = client_.Get(url);
      EXPECT_EQ(f.status, 200) << url;
      if (url != std::string(p.at("page_url").as_string())) {
        EXPECT_TRUE(IsJpeg(f.body) || IsPng(f.body)) << url;
      }
    }
  }
  for (Cue cue : kAllCues) EXPECT_GE(per_cue[std::string(CueName(cue))], 10) << CueName(cue);
  EXPECT_GE(truth.at("decoys").as_array().size(), 10u);
  EXPECT_FALSE(truth.at("unrelated").as_array().empty());
  std::set<std::string> duplicate_kinds;
  for (const auto& d : truth.at("duplicates").as_array()) duplicate_kinds.insert(std::string(d.at("kind").as_string()));
  EXPECT_EQ(duplicate_kinds,
            (std::set<std::string>{"exact", "same-url", "near-reencoded", "near-resized", "srcset-variant"}));
}

TEST_F(SampleSiteTest, ExactDuplicatesHaveTheSameBytesAtAnotherUrl) {
  int exact = 0;
  for (const Duplicate& d : Truth().duplicates) {
    if (d.kind != DuplicateKind::kExact) continue;
    ++exact;
    EXPECT_NE(d.original_path, d.copy_path);
    EXPECT_EQ(client_.Get(Url(d.original_path)).body, client_.Get(Url(d.copy_path)).body);
  }
  EXPECT_GE(exact, 2);
}

TEST_F(SampleSiteTest, SameSeedGivesTheSameBytesAndAnotherSeedDoesNot) {
  auto again = GenerateSite(TestOptions());
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  const Site& served = server_->site();
  ASSERT_EQ(again->resources.size(), served.resources.size());
  for (const auto& [path, resource] : served.resources) {
    const Resource* twin = again->Find(path);
    ASSERT_NE(twin, nullptr) << path;
    ASSERT_EQ(*twin->body, *resource.body) << path;
  }
  // And over HTTP: the bytes served are the generated ones.
  const std::string image = Truth().pairs.back().before_path;
  EXPECT_EQ(client_.Get(Url(image)).body, *again->Find(image)->body);

  SiteOptions other = TestOptions();
  other.seed = kSeed + 1;
  other.pages = kMinPages;
  auto different = GenerateSite(other);
  ASSERT_TRUE(different.has_value()) << different.error().ToString();
  EXPECT_NE(*different->Find("/static/logo.png")->body, *served.Find("/static/logo.png")->body);
  EXPECT_NE(different->truth.pairs.front().before_path, Truth().pairs.front().before_path);
}

TEST_F(SampleSiteTest, RateLimitedPageAnswers429WithRetryAfterThen200) {
  const Fetched first = client_.Get(Url("/busy.html"));
  EXPECT_EQ(first.status, 429);
  EXPECT_EQ(first.Header("retry-after"), "1");
  const Fetched second = client_.Get(Url("/busy.html"));
  EXPECT_EQ(second.status, 200);
  EXPECT_NE(second.body.find("<h1>"), std::string::npos);
}

TEST_F(SampleSiteTest, RedirectsPointAtPrivateAddressesListedAsNeverFetch) {
  std::set<std::string> targets;
  for (const Hazard& h : Truth().hazards) {
    if (h.kind != "redirect-private") continue;
    const Fetched r = client_.Get(Url(h.path));
    EXPECT_EQ(r.status, 302) << h.path;
    EXPECT_EQ(r.Header("location"), h.target);
    targets.insert(r.Header("location"));
    EXPECT_TRUE(std::ranges::any_of(Truth().never_fetch, [&](const NeverFetch& n) {
      return n.url == h.target && n.reason == "private-redirect-target";
    })) << h.target;
  }
  EXPECT_EQ(targets, (std::set<std::string>{"http://169.254.169.254/latest/meta-data", "http://10.0.0.1/x.jpg"}));
}

TEST_F(SampleSiteTest, AccessLogRecordsEachRequestButNotTheControlEndpoints) {
  server_->ClearAccessLog();
  client_.Get(Url("/about.html"));
  client_.Get(Url("/no/such/page.html?x=1"));
  client_.Get(Url("/ground-truth.json"));
  const Fetched log = client_.Get(Url("/access-log.json"));
  ASSERT_EQ(log.status, 200);
  const boost::json::value v = boost::json::parse(log.body);
  const auto& entries = v.at("entries").as_array();
  ASSERT_EQ(entries.size(), 2u) << log.body;
  EXPECT_EQ(entries[0].at("path").as_string(), "/about.html");
  EXPECT_EQ(entries[0].at("status").as_int64(), 200);
  EXPECT_EQ(entries[0].at("method").as_string(), "GET");
  EXPECT_EQ(entries[0].at("user_agent").as_string(), "sample-site-test");
  EXPECT_EQ(entries[1].at("path").as_string(), "/no/such/page.html");
  EXPECT_EQ(entries[1].at("target").as_string(), "/no/such/page.html?x=1");
  EXPECT_EQ(entries[1].at("status").as_int64(), 404);
  EXPECT_LE(entries[0].at("time_ms").as_double(), entries[1].at("time_ms").as_double());
  EXPECT_EQ(server_->AccessLogEntries().size(), 2u);
}

TEST_F(SampleSiteTest, HugeImagesAreStreamedWithoutLengthOrDeclaredAboveTheCap) {
  constexpr std::uint64_t kCap = 20ULL << 20;
  const Fetched declared = client_.Get(Url("/media/archive/poster-print.jpg"), {.head = true});
  EXPECT_EQ(declared.status, 200);
  EXPECT_GT(std::stoull(declared.Header("content-length")), kCap);
  const Fetched streamed = client_.Get(Url("/media/archive/poster-full.jpg"), {.max_body = 1 << 20});
  EXPECT_EQ(streamed.status, 200);
  EXPECT_FALSE(streamed.headers.contains("content-length"));
  EXPECT_EQ(streamed.Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(IsJpeg(streamed.body));
  EXPECT_GE(streamed.body.size(), 1u << 20);
  // The server is still fine after the client dropped the connection mid-body.
  EXPECT_EQ(Client().Get(Url("/")).status, 200);
}

TEST_F(SampleSiteTest, BrokenImagesLookBroken) {
  const Fetched truncated = client_.Get(Url("/media/archive/truncated.jpg"));
  EXPECT_TRUE(IsJpeg(truncated.body));
  EXPECT_NE(truncated.body.substr(truncated.body.size() - 2), std::string("\xFF\xD9", 2));  // no end of image
  const Fetched garbage = client_.Get(Url("/media/archive/garbage.jpg"));
  EXPECT_EQ(garbage.Header("content-type"), "image/jpeg");
  EXPECT_FALSE(IsJpeg(garbage.body) || IsPng(garbage.body));
  for (const char* path : {"/media/archive/missing.jpg", "/media/archive/missing-2.jpg"}) {
    const Fetched html = client_.Get(Url(path));
    EXPECT_EQ(html.status, 200);
    EXPECT_TRUE(html.body.starts_with("<!DOCTYPE html>")) << path;
  }
  EXPECT_TRUE(client_.Get(Url("/media/archive/missing.jpg")).Header("content-type").starts_with("text/html"));
  EXPECT_EQ(client_.Get(Url("/media/archive/missing-2.jpg")).Header("content-type"), "image/jpeg");
  // The bombs declare 50000 x 50000 (0xC350) in a header that is otherwise valid.
  const std::string side("\xC3\x50\xC3\x50", 4);
  const Fetched jpeg = client_.Get(Url("/media/archive/panorama.jpg"));
  EXPECT_TRUE(IsJpeg(jpeg.body));
  EXPECT_NE(jpeg.body.find(std::string("\xFF\xC0", 2)), std::string::npos);
  EXPECT_NE(jpeg.body.find(side), std::string::npos);
  const Fetched png = client_.Get(Url("/media/archive/panorama.png"));
  EXPECT_TRUE(IsPng(png.body));
  EXPECT_EQ(png.body.substr(16, 8), std::string("\x00\x00\xC3\x50\x00\x00\xC3\x50", 8));
  EXPECT_LT(png.body.size(), 64u * 1024);
}

TEST_F(SampleSiteTest, SlowPageAnswersAfterTheConfiguredDelay) {
  const Fetched slow = client_.Get(Url("/slow/booking.html"));
  EXPECT_EQ(slow.status, 200);
  EXPECT_GE(slow.elapsed, kSlowDelay);
}

TEST_F(SampleSiteTest, NoaiPageSaysSoAndItsImagesAreNeverToBeFetched) {
  const Fetched page = client_.Get(Url("/ai-policy.html"));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.Header("x-robots-tag").find("noai"), std::string::npos);
  EXPECT_NE(page.body.find("<meta name=\"robots\" content=\"noai, noimageai\">"), std::string::npos);
  int images = 0;
  for (const NeverFetch& n : Truth().never_fetch)
    if (n.reason == "noai-page") {
      ++images;
      EXPECT_NE(page.body.find(fmt::format("src=\"{}\"", n.url)), std::string::npos) << n.url;
    }
  EXPECT_EQ(images, 2);
}

TEST_F(SampleSiteTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const Fetched first = client_.Get(Url("/"));
  const Fetched second = client_.Get(Url("/gallery/"));
  const Fetched third = client_.Get(Url("/static/logo.png"));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(second.new_connections, 0);
  EXPECT_EQ(third.new_connections, 0);
}

TEST_F(SampleSiteTest, PagesReachTwoToThreeLinksDeep) {
  int max_depth = 0;
  for (const TruePair& p : Truth().pairs) {
    EXPECT_GE(p.depth, 1) << p.page_path;
    max_depth = std::max(max_depth, p.depth);
  }
  EXPECT_EQ(max_depth, 3);
  const Fetched gallery = client_.Get(Url("/gallery/"));
  for (const TruePair* p : PairsOf(Cue::kAdjacent))
    EXPECT_NE(gallery.body.find(fmt::format("href=\"{}\"", p->page_path)), std::string::npos) << p->page_path;
}

std::string LowerCase(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The pages as the crawler's extractor reads them: each pair's images are found (the widest srcset
// candidate, <picture>, lazy data-src), with the cue the ground truth names.
TEST_F(SampleSiteTest, TheCrawlersExtractorSeesEachPairWithItsCue) {
  std::map<std::string, std::map<std::string, const ImageRef*>> by_page;  // page -> path -> image
  std::map<std::string, ExtractedPage> pages;
  for (const TruePair& p : Truth().pairs) {
    if (!pages.contains(p.page_path)) {
      const workers::Url page_url = workers::Url::Parse("http://salon.test" + p.page_path).value();
      pages[p.page_path] = ExtractPage(*server_->site().Find(p.page_path)->body, page_url);
      for (const ImageRef& image : pages[p.page_path].images) by_page[p.page_path][image.url.path()] = &image;
    }
    const auto& images = by_page[p.page_path];
    ASSERT_TRUE(images.contains(p.before_path)) << p.page_path << " " << p.before_path;
    ASSERT_TRUE(images.contains(p.after_path)) << p.page_path << " " << p.after_path;
    const ImageContext& before = images.at(p.before_path)->context;
    const ImageContext& after = images.at(p.after_path)->context;
    switch (p.cue) {
      case Cue::kAlt:
        EXPECT_NE(LowerCase(before.alt).find("before"), std::string::npos) << before.alt;
        EXPECT_NE(LowerCase(after.alt).find("after"), std::string::npos) << after.alt;
        break;
      case Cue::kCaption:
        EXPECT_NE(LowerCase(before.caption).find("before"), std::string::npos) << before.caption;
        EXPECT_NE(LowerCase(after.caption).find("after"), std::string::npos) << after.caption;
        EXPECT_EQ(LowerCase(before.alt).find("before"), std::string::npos) << before.alt;
        break;
      case Cue::kFilename:
        EXPECT_NE(p.before_path.find("before"), std::string::npos);
        EXPECT_NE(p.after_path.find("after"), std::string::npos);
        EXPECT_EQ(LowerCase(before.alt + before.nearby_text).find("before"), std::string::npos);
        break;
      case Cue::kAdjacent:
        EXPECT_EQ(after.position, before.position + 1);
        for (const ImageContext* c : {&before, &after})
          for (const char* word : {"before", "after"})
            EXPECT_EQ(LowerCase(c->alt + c->caption + c->nearby_text).find(word), std::string::npos)
                << c->alt << " / " << c->nearby_text;
        break;
      case Cue::kCompositeSide:
      case Cue::kCompositeStacked: break;
    }
  }
  // The smaller srcset candidates are never the one taken.
  for (const Duplicate& d : Truth().duplicates) {
    if (d.kind == DuplicateKind::kSrcsetVariant) {
      EXPECT_FALSE(by_page[d.copy_page_path].contains(d.copy_path)) << d.copy_path;
    }
  }
}

TEST(SampleSiteServerTest, EachRateLimitedPathAnswers429OnceThen200) {
  Site site;
  site.options.retry_after_seconds = 7;
  for (const char* path : {"/a.html", "/b.html"}) {
    Resource r;
    r.content_type = "text/html";
    r.body = std::make_shared<const std::string>("<p>busy</p>");
    r.rate_limited_first = true;
    site.resources[path] = r;
  }
  auto server = SampleSiteServer::Start(std::move(site));
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  Client client;
  const std::string base = (*server)->base_url();
  const Fetched a1 = client.Get(base + "/a.html");
  EXPECT_EQ(a1.status, 429);
  EXPECT_EQ(a1.Header("retry-after"), "7");
  EXPECT_EQ(client.Get(base + "/a.html").status, 200);
  EXPECT_EQ(client.Get(base + "/a.html").body, "<p>busy</p>");
  EXPECT_EQ(client.Get(base + "/b.html").status, 429);
  EXPECT_EQ(client.Get(base + "/b.html").status, 200);
  std::vector<int> statuses;
  for (const AccessLogEntry& e : (*server)->AccessLogEntries()) statuses.push_back(e.status);
  EXPECT_EQ(statuses, (std::vector<int>{429, 200, 200, 429, 200}));
}

TEST(SampleSiteServerTest, HeadAnswersTheHeadersOfGetWithoutABody) {
  Site site;
  Resource r;
  r.content_type = "image/jpeg";
  r.body = std::make_shared<const std::string>(std::string(1000, 'x'));
  site.resources["/x.jpg"] = r;
  auto server = SampleSiteServer::Start(std::move(site));
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  Client client;
  const Fetched head = client.Get((*server)->base_url() + "/x.jpg", {.head = true});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "1000");
  EXPECT_TRUE(head.body.empty());
  const Fetched get = client.Get((*server)->base_url() + "/x.jpg");
  EXPECT_EQ(get.body.size(), 1000u);
  EXPECT_EQ(get.new_connections, 0);
}

TEST(SampleSiteGenerator, FlatModeListsDistinctSmallImagesOnTheIndex) {
  SiteOptions options;
  options.flat_images = 300;
  auto site = GenerateSite(options);
  ASSERT_TRUE(site.has_value()) << site.error().ToString();
  EXPECT_EQ(site->truth.flat_images, 300);
  ASSERT_EQ(site->truth.images.size(), 300u);
  const std::string& index = *site->Find("/")->body;
  std::set<std::string> bodies;
  for (const std::string& path : site->truth.images) {
    EXPECT_NE(index.find(fmt::format("src=\"{}\"", path)), std::string::npos) << path;
    const Resource* r = site->Find(path);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(IsJpeg(*r->body));
    bodies.insert(*r->body);
  }
  EXPECT_EQ(bodies.size(), 300u);
  EXPECT_NE(site->Find("/flat/page-2.html"), nullptr);
  EXPECT_EQ(site->robots_txt, "User-agent: *\nDisallow:\n");
}

TEST(SampleSiteGenerator, OptionsOutOfRangeAreRefused) {
  SiteOptions few;
  few.pages = kMinPages - 1;
  EXPECT_EQ(GenerateSite(few).error().code, base::ErrorCode::kInvalidArgument);
  SiteOptions tiny;
  tiny.scale = 0.01;
  EXPECT_EQ(GenerateSite(tiny).error().code, base::ErrorCode::kInvalidArgument);
}

TEST(SampleSiteHandler, TargetPathDropsQueryAndAbsoluteForm) {
  EXPECT_EQ(TargetPath("/a/b?c=1"), "/a/b");
  EXPECT_EQ(TargetPath("http://example.com/x.jpg#f"), "/x.jpg");
  EXPECT_EQ(TargetPath("http://example.com"), "/");
  EXPECT_EQ(TargetPath(""), "/");
}

#ifdef FURRSIGHT_BIN_DIR
TEST(SampleSiteProgram, PrintsWhereItListensServesAndStopsOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    const std::string bin = std::string(FURRSIGHT_BIN_DIR) + "/furrsight-sample-site";
    execl(bin.c_str(), bin.c_str(), "--port", "0", "--seed", "5", "--pages", "22", "--scale", "0.5", nullptr);
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c = 0;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  ASSERT_TRUE(line.starts_with("listening on http://127.0.0.1:")) << line;
  const std::string base = line.substr(std::string("listening on ").size());
  Client client;
  const Fetched robots = client.Get(base + "/robots.txt");
  EXPECT_EQ(robots.status, 200);
  EXPECT_NE(robots.body.find("Disallow: /private/"), std::string::npos);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

}  // namespace
}  // namespace furrsight::workers::sample_site
