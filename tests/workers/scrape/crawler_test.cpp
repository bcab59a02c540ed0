#include "workers/scrape/crawler.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stop_token>

#include <boost/json/serialize.hpp>

#include "tests/support/http_test_server.hpp"
#include "tests/workers/scrape/scrape_test_util.hpp"

namespace furrsight::workers {
namespace {

using furrsight::testing::HttpTestRequest;
using furrsight::testing::HttpTestResponse;
using furrsight::testing::HttpTestServer;
using std::chrono::milliseconds;
using namespace furrsight::workers::testing;

// A grooming salon's site, generated: page "r" links to "r1".."r3", page
// "r1" to "r11".."r13", and so on for ids of up to 5 characters. Every page
// shows a before/after pair in figures; its images are distinct JPEGs.
HttpTestResponse SitePage(const std::string& id) {
  std::string html = fmt::format(
      "<!doctype html><html><head><title>Page {0}</title></head><body><h1>Grooming {0}</h1>"
      "<div class=pair><figure><img src=\"/img/{0}-before.jpg\" alt=\"before\"><figcaption>Before</figcaption></figure>"
      "<figure><img src=\"/img/{0}-after.jpg\" alt=\"after\"><figcaption>After</figcaption></figure>"
      "<p>Poodle {0}, full groom</p></div>",
      id);
  for (int child = 1; child <= 3; ++child) html += fmt::format("<a href=\"/site/{}{}.html\">next</a> ", id, child);
  html += "<a href=\"/site/r.html\">home</a> <a href=\"http://elsewhere.invalid/\">elsewhere</a></body></html>";
  return HttpTestResponse::Html(html);
}

void InstallSite(HttpTestServer& server) {
  server.RoutePrefix("/site/", [](const HttpTestRequest& request) {
    std::string id = request.path.substr(6, request.path.size() - 6 - 5);  // "/site/<id>.html"
    if (id.empty() || id.size() > 5 || !request.path.ends_with(".html")) return HttpTestResponse::Status(404);
    return SitePage(id);
  });
  server.RoutePrefix("/img/", [](const HttpTestRequest& request) {
    return HttpTestResponse::Bytes(JpegBytes(640, 480, request.path), "image/jpeg");
  });
  server.Route("/robots.txt", HttpTestResponse::Text("User-agent: *\nAllow: /\n"));
}

struct PageRecord {
  std::string url;
  std::string final_url;
  int depth = 0;
  std::size_t images = 0;
};

struct ImageRecord {
  std::string url;
  std::string page_url;
  ImageSource source = ImageSource::kImg;
  ImageContext context;
  std::string sha256;
  std::optional<ImageSize> size;
  std::size_t bytes = 0;
};

class RecordingSink final : public CrawlSink {
 public:
  base::Result<void> OnPageCaptured(const CapturedPage& page) override {
    pages.push_back({page.url.spec(), page.final_url.spec(), page.depth, page.images.size()});
    EXPECT_FALSE(page.html.empty());
    return {};
  }
  base::Result<void> OnImageDownloaded(const DownloadedImage& image) override {
    if (fail_images) return base::Fail(base::ErrorCode::kUnavailable, "blob store down");
    images.push_back({image.url.spec(), image.page_url, image.source, image.context, image.sha256, image.size,
                      image.bytes.size()});
    return {};
  }

  const ImageRecord* Image(std::string_view url) const {
    for (const auto& image : images)
      if (image.url == url) return &image;
    return nullptr;
  }

  std::vector<PageRecord> pages;
  std::vector<ImageRecord> images;
  bool fail_images = false;
};

class CrawlerTest : public ::testing::Test {
 protected:
  void SetUp() override { InstallSite(server_); }

  CrawlReport Crawl(CrawlRequest request, CrawlOptions options = {}, FetcherOptions fetcher_options = LoopbackOptions(),
                    SearchProvider* search = nullptr) {
    CurlFetcher fetcher(std::move(fetcher_options));
    Crawler crawler(fetcher, sink_, std::move(options), search);
    auto report = crawler.Run(request);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return report ? *report : CrawlReport{};
  }

  std::set<std::string> RequestedPaths(std::string_view prefix) const {
    std::set<std::string> out;
    for (const auto& r : server_.Requests())
      if (r.path.starts_with(prefix)) out.insert(r.path);
    return out;
  }

  HttpTestServer server_;
  RecordingSink sink_;
};

TEST_F(CrawlerTest, DepthLimitsTheLinksFollowedAndImagesComeWithContext) {
  CrawlReport report = Crawl({.urls = {server_.Url("/site/r.html")}, .max_depth = 1});
  EXPECT_EQ(report.pages_captured, 4);
  EXPECT_EQ(report.images_downloaded, 8);
  EXPECT_EQ(report.failures.Total(), 0) << boost::json::serialize(report.ToJson());
  EXPECT_EQ(RequestedPaths("/site/"),
            (std::set<std::string>{"/site/r.html", "/site/r1.html", "/site/r2.html", "/site/r3.html"}));
  EXPECT_EQ(server_.RequestCount("/robots.txt"), 1u);
  for (const auto& page : sink_.pages) EXPECT_EQ(page.depth, page.url.ends_with("/r.html") ? 0 : 1) << page.url;

  const ImageRecord* before = sink_.Image(server_.Url("/img/r2-before.jpg"));
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->page_url, server_.Url("/site/r2.html"));
  EXPECT_EQ(before->source, ImageSource::kImg);
  EXPECT_EQ(before->context.alt, "before");
  EXPECT_EQ(before->context.caption, "Before");
  EXPECT_EQ(before->context.nearby_text, "Poodle r2, full groom");
  EXPECT_EQ(before->context.position, 0);
  EXPECT_EQ(before->size, (ImageSize{640, 480}));
  EXPECT_EQ(before->sha256.size(), 64u);
  const ImageRecord* after = sink_.Image(server_.Url("/img/r2-after.jpg"));
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->context.alt, "after");
  EXPECT_EQ(after->context.position, 1);
}

TEST_F(CrawlerTest, PageAndImageLimitsAreExactAndNothingIsFetchedBeyondThem) {
  CrawlReport report = Crawl({.urls = {server_.Url("/site/r.html")}, .max_depth = 4, .max_pages = 5, .max_images = 6});
  EXPECT_EQ(report.pages_captured, 5);
  EXPECT_EQ(report.images_downloaded, 6);
  EXPECT_EQ(RequestedPaths("/site/").size(), 5u);
  EXPECT_EQ(RequestedPaths("/img/").size(), 6u);
  // Breadth first: the seed and its three children, then one grandchild.
  std::map<int, int> by_depth;
  for (const auto& page : sink_.pages) ++by_depth[page.depth];
  EXPECT_EQ(by_depth, (std::map<int, int>{{0, 1}, {1, 3}, {2, 1}}));
}

TEST_F(CrawlerTest, RobotsTxtIsHonouredForOurGroupAndFetchedOncePerOrigin) {
  server_.Route("/robots.txt", HttpTestResponse::Text("User-agent: *\nDisallow: /\n\n"
                                                      "User-agent: FurrSightBot\nDisallow: /site/r1\n"
                                                      "Disallow: /img/*-after.jpg$\n"));
  CrawlReport report = Crawl({.urls = {server_.Url("/site/r.html")}, .max_depth = 2});
  EXPECT_EQ(report.pages_captured, 1 + 2 + 6);  // r, r2, r3 and their children; r1 and below never
  EXPECT_EQ(report.images_downloaded, 9);        // the before images only
  EXPECT_EQ(report.failures.Get(FailureClass::kRobots), 1 + 9);
  EXPECT_TRUE(RequestedPaths("/site/r1").empty());
  for (const auto& path : RequestedPaths("/img/")) EXPECT_TRUE(path.ends_with("-before.jpg")) << path;
  EXPECT_EQ(server_.RequestCount("/robots.txt"), 1u);
  EXPECT_EQ(report.robots_fetched, 1);
}

TEST_F(CrawlerTest, RobotsTxtServerErrorMeansDisallowAll) {
  server_.Route("/robots.txt", HttpTestResponse::Status(503));
  CrawlReport report = Crawl({.urls = {server_.Url("/site/r.html")}});
  EXPECT_EQ(report.pages_captured, 0);
  EXPECT_EQ(report.failures.Get(FailureClass::kRobots), 1);
  ASSERT_EQ(report.failure_samples.size(), 1u);
  EXPECT_EQ(report.failure_samples[0].detail, "robots.txt answered 503");
  EXPECT_TRUE(RequestedPaths("/site/").empty());
}

TEST_F(CrawlerTest, EveryFailureIsCountedByClass) {
  server_.Route("/mixed.html", HttpTestResponse::Html(R"(<html><body>
      <img src="/bad/noai.jpg"> <img src="/bad/fake.jpg"> <img src="/bad/huge.jpg"> <img src="/bad/missing.jpg">
      <img src="/bad/broken.jpg"> <img src="/bad/slow.jpg"> <img src="/bad/to-metadata.jpg"> <img src="/img/ok.jpg">
      <img src="data:image/png;base64,AAAA"> <a href="/download?id=3">pdf</a> <a href="/brochure.PDF">pdf</a>
      </body></html>)"));
  server_.Route("/bad/noai.jpg", HttpTestResponse::Bytes(JpegBytes(9, 9, "n"), "image/jpeg").Header("X-Robots-Tag", "noimageai"));
  server_.Route("/bad/fake.jpg", HttpTestResponse::Html("<!DOCTYPE html><p>soft 404</p>"));
  HttpTestResponse huge = HttpTestResponse::Bytes(JpegBytes(9, 9, "h"), "image/jpeg");
  huge.filler_bytes = 4 << 20;
  huge.close_delimited = true;
  server_.Route("/bad/huge.jpg", huge);
  server_.Route("/bad/missing.jpg", HttpTestResponse::Status(404));
  server_.Route("/bad/broken.jpg", HttpTestResponse::Status(502));
  HttpTestResponse slow = HttpTestResponse::Bytes(JpegBytes(9, 9, "s"), "image/jpeg");
  slow.delay = milliseconds(3'000);
  server_.Route("/bad/slow.jpg", slow);
  server_.Route("/bad/to-metadata.jpg", HttpTestResponse::Redirect("http://169.254.169.254/latest/meta-data/iam"));
  server_.Route("/download", HttpTestResponse::Bytes("%PDF-1.4", "application/pdf"));
  FetcherOptions fetcher_options = LoopbackOptions();
  fetcher_options.max_image_bytes = 1 << 20;
  fetcher_options.total_timeout = milliseconds(1'000);
  CrawlReport report = Crawl({.urls = {server_.Url("/mixed.html")}}, {}, fetcher_options);
  EXPECT_EQ(report.pages_captured, 1);
  EXPECT_EQ(report.images_downloaded, 1);
  auto json = report.ToJson();
  auto failures = json.at("failures").as_object();
  EXPECT_EQ(failures.at("noai").as_int64(), 1);
  EXPECT_EQ(failures.at("not_image").as_int64(), 1);
  EXPECT_EQ(failures.at("too_large").as_int64(), 1);
  EXPECT_EQ(failures.at("http_4xx").as_int64(), 1);
  EXPECT_EQ(failures.at("http_5xx").as_int64(), 1);
  EXPECT_EQ(failures.at("timeout").as_int64(), 1);
  EXPECT_EQ(failures.at("ssrf").as_int64(), 1);
  EXPECT_EQ(failures.at("not_html").as_int64(), 1);
  EXPECT_EQ(report.failures.Total(), 8) << boost::json::serialize(json);
  EXPECT_EQ(json.at("failure_samples").as_array().size(), 8u);
  EXPECT_EQ(server_.RequestCount("/brochure.PDF"), 0u);  // not a page: never fetched
  std::printf("[ figures  ] report: %s\n", boost::json::serialize(json.at("failures")).c_str());
}

TEST_F(CrawlerTest, NoimageaiOnThePageSkipsItsImagesButNotItsLinks) {
  server_.Route("/private-gallery.html",
                HttpTestResponse::Html(R"(<head><meta name="robots" content="noimageai"></head>
                  <img src="/img/p1.jpg"><img src="/img/p2.jpg"><a href="/site/r.html">home</a>)"));
  CrawlReport report = Crawl({.urls = {server_.Url("/private-gallery.html")}, .max_depth = 1});
  EXPECT_EQ(report.failures.Get(FailureClass::kNoai), 2);
  EXPECT_EQ(report.pages_captured, 2);
  EXPECT_EQ(server_.RequestCount("/img/p1.jpg"), 0u);
  EXPECT_EQ(report.images_downloaded, 2);  // those of /site/r.html
}

TEST_F(CrawlerTest, SearchQueriesSeedTheCrawlThroughTheSearxngApi) {
  std::string page = server_.Url("/site/r.html");
  std::string image = server_.Url("/img/from-search.jpg");
  server_.Route("/search", [&](const HttpTestRequest& request) {
    if (request.QueryParam("format") != "json") return HttpTestResponse::Status(403, "format not allowed");
    return HttpTestResponse::Json(fmt::format(
        R"({{"query": "{}", "number_of_results": 2, "results": [
              {{"url": "{}", "title": "Poodle before and after", "img_src": "{}", "engine": "stand-in"}},
              {{"url": "not a url", "title": "junk"}}]}})",
        request.QueryParam("q"), page, image));
  });
  SearxngSearchProvider search({.base_url = server_.Url("/"), .categories = "images"});
  CrawlReport report = Crawl({.queries = {"poodle before & after"}, .max_depth = 0}, {}, LoopbackOptions(), &search);
  EXPECT_EQ(report.search_results, 2);
  EXPECT_EQ(report.pages_captured, 1);
  EXPECT_EQ(report.images_downloaded, 3);
  EXPECT_EQ(report.failures.Get(FailureClass::kBadUrl), 1);
  const ImageRecord* hit = sink_.Image(image);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->source, ImageSource::kSearchResult);
  EXPECT_EQ(hit->page_url, page);
  EXPECT_EQ(hit->context.title, "Poodle before and after");
  auto searches = server_.Requests();
  ASSERT_FALSE(searches.empty());
  EXPECT_EQ(searches[0].path, "/search");
  EXPECT_EQ(searches[0].QueryParam("q"), "poodle before & after");
  EXPECT_EQ(searches[0].QueryParam("categories"), "images");
}

TEST_F(CrawlerTest, FailingSearchWithNothingElseToCrawlIsAnError) {
  server_.Route("/search", HttpTestResponse::Status(403, "json disabled"));
  SearxngSearchProvider search({.base_url = server_.Url("/")});
  CurlFetcher fetcher(LoopbackOptions());
  Crawler crawler(fetcher, sink_, {}, &search);
  auto report = crawler.Run({.queries = {"schnauzer"}});
  ASSERT_FALSE(report.has_value());
  EXPECT_NE(report.error().message.find("search.formats"), std::string::npos) << report.error().message;
  Crawler without_search(fetcher, sink_);
  EXPECT_FALSE(without_search.Run({.queries = {"schnauzer"}}).has_value());
  EXPECT_EQ(without_search.Run({}).error().code, base::ErrorCode::kInvalidArgument);
}

TEST_F(CrawlerTest, RedirectsToAnotherOriginAreJudgedByThatOriginsRobotsTxt) {
  FetcherOptions options = LoopbackOptions();
  for (const char* host : {"a.test", "b.test"}) options.resolve.push_back(fmt::format("{}:{}:127.0.0.1", host, server_.port()));
  std::string b = fmt::format("http://b.test:{}", server_.port());
  server_.Route("/robots.txt", [](const HttpTestRequest& request) {
    if (request.host == "b.test") return HttpTestResponse::Text("User-agent: *\nDisallow: /private/\n");
    return HttpTestResponse::Text("");
  });
  server_.Route("/start.html", HttpTestResponse::Html(
                                   "<a href=/go-private>p</a> <a href=/go-public>q</a> <a href=/go-public-again>r</a>"));
  server_.Route("/go-private", HttpTestResponse::Redirect(b + "/private/page.html"));
  server_.Route("/go-public", HttpTestResponse::Redirect(b + "/public/page.html", 301));
  server_.Route("/go-public-again", HttpTestResponse::Redirect(b + "/public/page.html"));
  server_.RoutePrefix("/public/", [](const HttpTestRequest&) { return HttpTestResponse::Html("<p>public</p>"); });
  server_.RoutePrefix("/private/", [](const HttpTestRequest&) { return HttpTestResponse::Html("<p>private</p>"); });
  CrawlOptions crawl_options;
  crawl_options.max_outstanding = 1;  // one at a time: the two redirects to /public/ meet in order
  CrawlReport report =
      Crawl({.urls = {fmt::format("http://a.test:{}/start.html", server_.port())}, .max_depth = 1}, crawl_options, options);
  EXPECT_EQ(report.failures.Get(FailureClass::kRobots), 1);
  EXPECT_EQ(server_.RequestCount("/private/page.html"), 0u);
  EXPECT_EQ(server_.RequestCount("/public/page.html"), 1u);
  EXPECT_EQ(report.pages_captured, 2);
  EXPECT_EQ(report.pages_duplicate, 1);
  bool found = false;
  for (const auto& page : sink_.pages)
    if (page.final_url == b + "/public/page.html") {
      found = true;
      EXPECT_EQ(page.url, fmt::format("http://a.test:{}/go-public", server_.port()));
    }
  EXPECT_TRUE(found);
  int robots_b = 0;
  for (const auto& r : server_.Requests()) robots_b += r.path == "/robots.txt" && r.host == "b.test";
  EXPECT_EQ(robots_b, 1);
}

TEST_F(CrawlerTest, LoopbackSeedIsRefusedWithoutTheAllowlist) {
  FetcherOptions strict = LoopbackOptions();
  strict.guard = AddressGuard();
  CrawlReport report = Crawl({.urls = {server_.Url("/site/r.html")}}, {}, strict);
  EXPECT_EQ(report.pages_captured, 0);
  EXPECT_EQ(report.failures.Get(FailureClass::kSsrf), 1);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CrawlerTest, DuplicateBytesAndPageUrlsServingImagesAndBadSeeds) {
  std::string same = JpegBytes(100, 100, "same bytes");
  server_.Route("/dup.html", HttpTestResponse::Html(R"(<img src="/d/one.jpg"><img src="/d/two.jpg">
                                                       <a href="/photo?id=7">a photo</a>)"));
  server_.Route("/d/one.jpg", HttpTestResponse::Bytes(same, "image/jpeg"));
  server_.Route("/d/two.jpg", HttpTestResponse::Bytes(same, "image/jpeg"));
  server_.Route("/photo", HttpTestResponse::Bytes(JpegBytes(50, 50, "photo 7"), "image/jpeg"));
  CrawlReport report = Crawl({.urls = {server_.Url("/dup.html"), "ftp://files.example/x", "not a url"}, .max_depth = 1});
  EXPECT_EQ(report.failures.Get(FailureClass::kBadUrl), 2);
  EXPECT_EQ(report.images_duplicate, 1);
  EXPECT_EQ(report.images_downloaded, 2);
  const ImageRecord* photo = sink_.Image(server_.Url("/photo?id=7"));
  ASSERT_NE(photo, nullptr);
  EXPECT_EQ(photo->source, ImageSource::kPageUrl);
  EXPECT_EQ(photo->page_url, server_.Url("/dup.html"));
}

TEST_F(CrawlerTest, StopTokenCancelsAndSinkErrorsAbort) {
  std::stop_source stop;
  CurlFetcher fetcher(LoopbackOptions());
  CrawlOptions options;
  options.progress_interval = milliseconds(0);
  Crawler crawler(fetcher, sink_, options);
  int calls = 0;
  auto report = crawler.Run({.urls = {server_.Url("/site/r.html")}, .max_depth = 4}, stop.get_token(),
                            [&](const CrawlReport& progress) {
                              ++calls;
                              if (progress.pages_captured >= 2) stop.request_stop();
                            });
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->stopped, "cancelled");
  EXPECT_LT(report->pages_captured, 50);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(fetcher.Outstanding(), 0u);

  sink_.fail_images = true;
  auto failed = crawler.Run({.urls = {server_.Url("/site/r.html")}});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "blob store down");
}

}  // namespace
}  // namespace furrsight::workers
