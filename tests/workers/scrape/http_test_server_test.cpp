// Tests of tests/support/http_test_server (reused by other suites), with
// plain libcurl as the client.
#include "tests/support/http_test_server.hpp"

#include <curl/curl.h>

#include <gtest/gtest.h>

#include <future>

#include <fmt/format.h>

namespace furrsight::testing {
namespace {

using std::chrono::milliseconds;

struct Got {
  long status = 0;
  std::string body;
  std::string headers;
  long new_connections = 0;
};

size_t Append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

Got Get(CURL* easy, const std::string& url) {
  Got got;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &got.body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &got.headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10'000L);
  EXPECT_EQ(curl_easy_perform(easy), CURLE_OK) << url;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &got.status);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &got.new_connections);
  return got;
}

Got Get(const std::string& url) {
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  return Get(easy.get(), url);
}

TEST(HttpTestServer, RoutesExactThenLongestPrefixThenFallback) {
  HttpTestServer server;
  server.Route("/a", HttpTestResponse::Text("exact"));
  server.RoutePrefix("/a", [](const HttpTestRequest&) { return HttpTestResponse::Text("short prefix"); });
  server.RoutePrefix("/a/b/", [](const HttpTestRequest& r) { return HttpTestResponse::Text("long prefix " + r.path); });
  EXPECT_EQ(Get(server.Url("/a?x=1")).body, "exact");
  EXPECT_EQ(Get(server.Url("/a/b/c")).body, "long prefix /a/b/c");
  EXPECT_EQ(Get(server.Url("/a/x")).body, "short prefix");
  EXPECT_EQ(Get(server.Url("/nothing")).status, 404);
  server.Fallback([](const HttpTestRequest&) { return HttpTestResponse::Status(418, "teapot"); });
  EXPECT_EQ(Get(server.Url("/nothing")).status, 418);
  EXPECT_EQ(server.RequestCount("/nothing"), 2u);
}

TEST(HttpTestServer, RequestsAreRecordedWithDecodedQueryAndHost) {
  HttpTestServer server;
  server.Route("/q", HttpTestResponse::Text("ok"));
  Get(server.Url("/q?term=poodle+before%20%26+after&empty=&flag"));
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/q");
  EXPECT_EQ(requests[0].QueryParam("term"), "poodle before & after");
  EXPECT_EQ(requests[0].QueryParam("empty"), "");
  EXPECT_EQ(requests[0].QueryParam("missing"), "");
  EXPECT_EQ(requests[0].host, "127.0.0.1");
  EXPECT_EQ(requests[0].Header("HOST"), fmt::format("127.0.0.1:{}", server.port()));
}

TEST(HttpTestServer, ScriptedBodiesArriveWhole) {
  HttpTestServer server;
  HttpTestResponse drip = HttpTestResponse::Text("0123456789");
  drip.drip_bytes = 3;
  drip.drip_interval = milliseconds(20);
  drip.delay = milliseconds(50);
  server.Route("/drip", drip);
  HttpTestResponse closed = HttpTestResponse::Text("head-");
  closed.filler_bytes = 100'000;
  closed.close_delimited = true;
  server.Route("/closed", closed);
  server.Route("/moved", HttpTestResponse::Redirect("/elsewhere", 301).Header("Retry-After", "5"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Get(server.Url("/drip")).body, "0123456789");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50 + 3 * 20));
  Got got = Get(server.Url("/closed"));
  EXPECT_EQ(got.body.size(), 100'005u);
  EXPECT_EQ(got.body.substr(0, 6), "head-Z");
  EXPECT_EQ(got.headers.find("Content-Length"), std::string::npos);
  Got moved = Get(server.Url("/moved"));
  EXPECT_EQ(moved.status, 301);
  EXPECT_NE(moved.headers.find("Location: /elsewhere"), std::string::npos);
  EXPECT_NE(moved.headers.find("Retry-After: 5"), std::string::npos);
  server.Stop();
  for (const auto& exchange : server.Exchanges()) EXPECT_TRUE(exchange.completed) << exchange.request.path;
}

TEST(HttpTestServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  HttpTestServer server;
  server.Route("/k", HttpTestResponse::Text("k"));
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  EXPECT_EQ(Get(easy.get(), server.Url("/k")).new_connections, 1);
  EXPECT_EQ(Get(easy.get(), server.Url("/k")).new_connections, 0);
  EXPECT_EQ(server.RequestCount("/k"), 2u);
}

TEST(HttpTestServer, InFlightIsMeasuredAndStopInterruptsDelays) {
  auto server = std::make_unique<HttpTestServer>();
  HttpTestResponse slow = HttpTestResponse::Text("late");
  slow.delay = milliseconds(60'000);
  server->Route("/slow", slow);
  std::string url = server->Url("/slow");
  auto a = std::async(std::launch::async, [&] {
    std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_PROXY, "");
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &Append);
    std::string ignored;
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &ignored);
    return curl_easy_perform(easy.get());
  });
  while (server->Requests().empty()) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(server->MaxInFlight(), 1);
  EXPECT_EQ(server->MaxInFlight("127.0.0.1"), 1);
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5'000));
  EXPECT_NE(a.get(), CURLE_OK);  // the connection was closed under it
  auto exchanges = server->Exchanges();
  ASSERT_EQ(exchanges.size(), 1u);
  EXPECT_FALSE(exchanges[0].completed);
}

}  // namespace
}  // namespace furrsight::testing
