// The API's HTTP layer against a real server on 127.0.0.1 (port 0), spoken
// to over real sockets by a small Beast client: routing, authentication and
// roles, problem responses, JSON body checks, limits and timeouts,
// keep-alive, Server-Sent Events, graceful stop, metrics, and a batch of
// generated malformed requests.
#include <atomic>
#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "orchestrator/api/http/http_server.hpp"
#include "orchestrator/api/http/json_body.hpp"
#include "orchestrator/api/http/metrics.hpp"
#include "orchestrator/api/http/problem.hpp"
#include "orchestrator/api/http/router.hpp"

namespace furrsight::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::string_view kPairId = "123e4567-e89b-12d3-a456-426614174000";

// --- a client over one connection --------------------------------------------

struct Reply {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool keep_alive = false;

  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (beast::iequals(k, name)) return v;
    return "";
  }
  json::object Json() const {
    boost::system::error_code ec;
    json::value value = json::parse(body, ec);
    if (ec || !value.is_object()) return {};
    return value.as_object();
  }
  std::string Code() const {
    json::object o = Json();
    return o.contains("code") && o["code"].is_string() ? std::string(o["code"].as_string()) : "";
  }
  std::string Detail() const {
    json::object o = Json();
    return o.contains("detail") && o["detail"].is_string() ? std::string(o["detail"].as_string()) : "";
  }
};

class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(io_) {
    beast::error_code ec;
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    connected_ = !ec;
  }
  bool connected() const { return connected_; }

  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = 5s) {
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(timeout);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [&](beast::error_code ec, std::size_t) { result = ec; });
    Run();
    return !result;
  }

  void ShutdownSend() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // One response, or nullopt if none came (closed, timeout, unparsable).
  std::optional<Reply> Read(std::chrono::milliseconds timeout = 5s) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::error_code result = asio::error::would_block;
    stream_.expires_after(timeout);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
    Run();
    if (result) return std::nullopt;
    auto& message = parser.get();
    Reply reply;
    reply.status = message.result_int();
    reply.body = message.body();
    reply.keep_alive = message.keep_alive();
    for (const auto& field : message) reply.headers.emplace_back(field.name_string(), field.value());
    return reply;
  }

  std::optional<Reply> Request(std::string_view method, std::string_view target, std::string_view body = "",
                               std::string_view extra_headers = "") {
    std::string request = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}", method, target, extra_headers);
    if (!body.empty() || method == "POST") request += fmt::format("Content-Length: {}\r\n", body.size());
    request += "\r\n";
    request += body;
    if (!Send(request)) return std::nullopt;
    return Read();
  }

  // Reads raw bytes until `needle` has arrived (true) or the timeout/close.
  bool ReadUntilContains(std::string_view needle, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (raw_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      if (!ReadSome(left)) return false;
    }
    return true;
  }
  const std::string& raw() const { return raw_; }

  // True if the server closes the connection within `timeout` (anything it
  // sends first is kept in raw()).
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      beast::error_code ec = ReadSomeCode(left);
      if (ec == beast::error::timeout) return false;
      if (ec) return true;  // eof or reset
    }
  }

 private:
  bool ReadSome(std::chrono::milliseconds timeout) { return !ReadSomeCode(timeout); }

  beast::error_code ReadSomeCode(std::chrono::milliseconds timeout) {
    if (buffer_.size() > 0) {  // bytes a parser read ahead
      raw_ += beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      return {};
    }
    char chunk[4096];
    beast::error_code result = asio::error::would_block;
    std::size_t got = 0;
    stream_.expires_after(timeout);
    stream_.async_read_some(asio::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
      result = ec;
      got = n;
    });
    Run();
    raw_.append(chunk, got);
    return result;
  }

  void Run() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string raw_;
  bool connected_ = false;
};

// --- the stub authenticator and the routes ------------------------------------

// "Authorization: Bearer <token>": researcher-token, operator-token,
// admin-token; "down" plays an unreachable identity provider.
class StubAuthenticator : public Authenticator {
 public:
  base::Result<Principal> Authenticate(const ApiRequest& request) override {
    std::string_view header = request.Header("authorization");
    if (header.empty()) return base::Fail(base::ErrorCode::kInvalidArgument, "missing bearer token");
    if (!header.starts_with("Bearer "))
      return base::Fail(base::ErrorCode::kInvalidArgument, "Authorization must be 'Bearer <token>'");
    std::string_view token = header.substr(7);
    if (token == "down") return base::Fail(base::ErrorCode::kUnavailable, "identity provider unreachable");
    for (std::string_view role : {"researcher", "operator", "admin"})
      if (token == fmt::format("{}-token", role))
        return Principal{std::string(role) + "-1", {std::string(role)}, "jwt", std::string(role), ""};
    return base::Fail(base::ErrorCode::kNotFound, "unknown token");
  }
};

constexpr std::string_view kResearcher = "Authorization: Bearer researcher-token\r\n";
constexpr std::string_view kOperator = "Authorization: Bearer operator-token\r\n";
constexpr std::string_view kAdmin = "Authorization: Bearer admin-token\r\n";

struct SlowGate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
};

class ApiHttpTest : public ::testing::Test {
 protected:
  ApiHttpTest() : router_(authenticator_) {
    file_ = std::filesystem::temp_directory_path() / fmt::format("api_http_test_{}.txt", ::getpid());
    std::ofstream(file_) << "file contents\n";
    AddRoutes();
  }
  ~ApiHttpTest() override {
    if (server_) server_->Stop();
    std::filesystem::remove(file_);
  }

  void StartServer(HttpServerOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_, &metrics_);
    auto started = server_->Start();
    ASSERT_TRUE(started) << started.error().ToString();
    ASSERT_NE(server_->port(), 0);
  }

  static HttpServerOptions Fast() {
    HttpServerOptions options;
    options.read_timeout = 2s;
    options.write_timeout = 2s;
    options.shutdown_grace = 5s;
    return options;
  }

  std::optional<Reply> Get(std::string_view target, std::string_view headers = kResearcher) {
    Client client(server_->port());
    return client.Request("GET", target, "", headers);
  }
  std::optional<Reply> Post(std::string_view target, std::string_view body, std::string_view headers = kResearcher) {
    Client client(server_->port());
    return client.Request("POST", target, body, headers);
  }

  void AddRoutes() {
    using http::verb;
    router_.Add({verb::get, "/healthz", {}, true, "alive", [](const ApiRequest&, const Principal&) {
                   return base::Result<ApiResponse>(ApiResponse::Text(200, "text/plain", "ok"));
                 }});
    router_.Add({verb::get, "/api/v1/pairs/{id}", {"researcher"}, false, "one pair",
                 [](const ApiRequest& request, const Principal& who) -> base::Result<ApiResponse> {
                   auto id = ParseUuidParam(request.Param("id"));
                   if (!id) return std::unexpected(id.error());
                   return ApiResponse::Json(200, json::object{{"id", *id}, {"by", who.subject}});
                 }});
    router_.Add({verb::get, "/api/v1/pairs/stats", {"researcher"}, false, "literal beats parameter",
                 [](const ApiRequest&, const Principal&) -> base::Result<ApiResponse> {
                   return ApiResponse::Json(200, json::object{{"stats", true}});
                 }});
    router_.Add({verb::post, "/api/v1/pairs/{id}/verify", {"researcher"}, false, "verify",
                 [](const ApiRequest& request, const Principal&) -> base::Result<ApiResponse> {
                   auto id = ParseUuidParam(request.Param("id"));
                   if (!id) return std::unexpected(id.error());
                   static constexpr std::string_view kFields[] = {"note", "version", "flags", "done"};
                   auto body = ParseJsonObject(request.body, kFields);
                   if (!body) return std::unexpected(body.error());
                   auto note = OptionalString(*body, "note");
                   if (!note) return std::unexpected(note.error());
                   auto version = OptionalInt(*body, "version");
                   if (!version) return std::unexpected(version.error());
                   auto flags = OptionalStringArray(*body, "flags");
                   if (!flags) return std::unexpected(flags.error());
                   auto done = OptionalBool(*body, "done");
                   if (!done) return std::unexpected(done.error());
                   return ApiResponse::Json(200, json::object{{"note", note->value_or("")},
                                                              {"version", version->value_or(-1)},
                                                              {"flags", flags->value_or(std::vector<std::string>{}).size()}});
                 }});
    router_.Add({verb::get, "/api/v1/ops", {"operator"}, false, "operators only",
                 [](const ApiRequest&, const Principal&) -> base::Result<ApiResponse> {
                   return ApiResponse::Json(200, json::object{{"ok", true}});
                 }});
    router_.Add({verb::get, "/api/v1/fail/{code}", {}, false, "returns the error named",
                 [](const ApiRequest& request, const Principal&) -> base::Result<ApiResponse> {
                   std::string_view code = request.Param("code");
                   if (code == "conflict") {
                     base::Error error{base::ErrorCode::kConflict, "pair changed meanwhile",
                                       base::VersionConflict{"pair-1", "3", 4}};
                     return std::unexpected(error);
                   }
                   for (auto c : {base::ErrorCode::kInvalidArgument, base::ErrorCode::kNotFound,
                                  base::ErrorCode::kFailedPrecondition, base::ErrorCode::kUnavailable,
                                  base::ErrorCode::kTimeout, base::ErrorCode::kInternal})
                     if (base::ErrorCodeName(c) == code) return base::Fail(c, "secret database detail");
                   return ApiResponse::Json(200, json::object{});
                 }});
    router_.Add({verb::get, "/api/v1/throw", {}, false, "throws",
                 [](const ApiRequest&, const Principal&) -> base::Result<ApiResponse> {
                   throw std::runtime_error("handler bug");
                 }});
    router_.Add({verb::get, "/api/v1/echo", {}, false, "echoes query and params",
                 [](const ApiRequest& request, const Principal&) -> base::Result<ApiResponse> {
                   json::object query;
                   for (const auto& [k, v] : request.query) query[k] = v;
                   return ApiResponse::Json(200, json::object{{"query", query},
                                                              {"x_custom", request.Header("X-CUSTOM")},
                                                              {"request_id", request.request_id}});
                 }});
    router_.Add({verb::get, "/api/v1/slow", {}, false, "waits", [this](const ApiRequest&, const Principal&) {
                   {
                     std::lock_guard lock(gate_.mutex);
                     gate_.entered = true;
                   }
                   gate_.changed.notify_all();
                   std::this_thread::sleep_for(1500ms);
                   return base::Result<ApiResponse>(ApiResponse::Json(200, json::object{{"slow", true}}));
                 }});
    router_.Add({verb::get, "/api/v1/events", {}, false, "SSE", [this](const ApiRequest&, const Principal&) {
                   return base::Result<ApiResponse>(ApiResponse::EventStream([this](EventStreamWriter& writer) {
                     for (int i = 0; writer.open(); ++i) {
                       if (!writer.Send("tick", std::to_string(i), json::object{{"n", i}})) break;
                       ++events_sent_;
                       std::this_thread::sleep_for(20ms);
                     }
                     producer_ended_ = true;
                   }));
                 }});
    router_.Add({verb::get, "/api/v1/file", {}, false, "a file", [this](const ApiRequest&, const Principal&) {
                   return base::Result<ApiResponse>(ApiResponse::File("text/plain", file_));
                 }});
    router_.Add({verb::get, "/api/v1/missing-file", {}, false, "no file", [](const ApiRequest&, const Principal&) {
                   return base::Result<ApiResponse>(ApiResponse::File("text/plain", "/nonexistent/furrsight"));
                 }});
    router_.Add({verb::get, "/api/v1/redirect", {}, false, "redirect", [](const ApiRequest&, const Principal&) {
                   return base::Result<ApiResponse>(ApiResponse::Redirect("https://s3.example/presigned"));
                 }});
  }

  void ExpectProblem(const std::optional<Reply>& reply, unsigned status, std::string_view code) {
    ASSERT_TRUE(reply.has_value()) << "no response";
    EXPECT_EQ(reply->status, status) << reply->body;
    EXPECT_EQ(reply->Header("Content-Type"), "application/problem+json") << reply->body;
    json::object o = reply->Json();
    EXPECT_EQ(reply->Code(), code) << reply->body;
    EXPECT_EQ(o["type"], json::value(fmt::format("https://furrsight.dev/problems/{}", code)));
    EXPECT_TRUE(o["title"].is_string() && !o["title"].as_string().empty()) << reply->body;
    EXPECT_EQ(o["status"], json::value(status));
    EXPECT_FALSE(reply->Detail().empty()) << reply->body;
    ASSERT_TRUE(o["request_id"].is_string()) << reply->body;
    EXPECT_EQ(std::string(o["request_id"].as_string()), reply->Header("X-Request-Id"));
  }

  StubAuthenticator authenticator_;
  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  std::filesystem::path file_;
  SlowGate gate_;
  std::atomic<int> events_sent_{0};
  std::atomic<bool> producer_ended_{false};
};

// --- routing -----------------------------------------------------------------

TEST_F(ApiHttpTest, RoutesByPathWithParametersAndLiteralsWinning) {
  StartServer(Fast());
  auto reply = Get(fmt::format("/api/v1/pairs/{}", kPairId));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->Json()["id"], json::value(kPairId));
  EXPECT_EQ(reply->Json()["by"], json::value("researcher-1"));
  EXPECT_FALSE(reply->Header("X-Request-Id").empty());

  auto stats = Get("/api/v1/pairs/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200u) << stats->body;
  EXPECT_EQ(stats->Json()["stats"], json::value(true));
}

TEST_F(ApiHttpTest, UnknownPathIs404Problem) {
  StartServer(Fast());
  ExpectProblem(Get("/api/v1/nothing-here"), 404, "not_found");
  ExpectProblem(Get("/api/v1/pairs/"), 404, "not_found");  // an empty parameter matches nothing
  // Nor does a parameter that decodes to a dot segment or holds a slash: no value can climb out of a directory.
  for (const char* path : {"/api/v1/pairs/..", "/api/v1/pairs/%2e%2e", "/api/v1/pairs/%2E", "/api/v1/pairs/a%2Fb",
                           "/api/v1/pairs/a%00b"})
    ExpectProblem(Get(path), 404, "not_found");
}

TEST_F(ApiHttpTest, KnownPathWithWrongMethodIs405WithAllow) {
  StartServer(Fast());
  Client client(server_->port());
  auto reply = client.Request("DELETE", fmt::format("/api/v1/pairs/{}", kPairId), "", kResearcher);
  ExpectProblem(reply, 405, "method_not_allowed");
  EXPECT_EQ(reply->Header("Allow"), "GET");
}

TEST_F(ApiHttpTest, QueryIsPercentDecodedAndHeadersAreCaseInsensitive) {
  StartServer(Fast());
  Client client(server_->port());
  auto reply = client.Request("GET", "/api/v1/echo?q=a%20b+c&breed=Shih%2DTzu&empty=&flag", "",
                              "X-Custom: hello\r\nX-Request-Id: my-request.42\r\n" + std::string(kResearcher));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200u) << reply->body;
  json::object o = reply->Json();
  EXPECT_EQ(o["query"].as_object()["q"], json::value("a b c"));
  EXPECT_EQ(o["query"].as_object()["breed"], json::value("Shih-Tzu"));
  EXPECT_EQ(o["query"].as_object()["empty"], json::value(""));
  EXPECT_EQ(o["query"].as_object()["flag"], json::value(""));
  EXPECT_EQ(o["x_custom"], json::value("hello"));
  EXPECT_EQ(o["request_id"], json::value("my-request.42"));
  EXPECT_EQ(reply->Header("X-Request-Id"), "my-request.42");
}

TEST_F(ApiHttpTest, BadIncomingRequestIdIsReplaced) {
  StartServer(Fast());
  auto reply = Get("/api/v1/echo", "X-Request-Id: has spaces and {braces}\r\n" + std::string(kResearcher));
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->Header("X-Request-Id"), "has spaces and {braces}");
  EXPECT_EQ(reply->Header("X-Request-Id").size(), 36u);
}

// --- authentication and roles ---------------------------------------------------

TEST_F(ApiHttpTest, MissingOrUnknownCredentialsAre401WithWwwAuthenticate) {
  StartServer(Fast());
  auto missing = Get("/api/v1/ops", "");
  ExpectProblem(missing, 401, "unauthenticated");
  EXPECT_EQ(missing->Header("WWW-Authenticate"), "Bearer");
  EXPECT_NE(missing->Detail().find("missing bearer token"), std::string::npos);

  auto unknown = Get("/api/v1/ops", "Authorization: Bearer nobody\r\n");
  ExpectProblem(unknown, 401, "unauthenticated");
  EXPECT_EQ(unknown->Header("WWW-Authenticate"), "Bearer");
}

TEST_F(ApiHttpTest, AuthenticatorUnavailableIs503) {
  StartServer(Fast());
  auto reply = Get("/api/v1/ops", "Authorization: Bearer down\r\n");
  ExpectProblem(reply, 503, "unavailable");
  EXPECT_EQ(reply->Header("WWW-Authenticate"), "");
}

TEST_F(ApiHttpTest, WrongRoleIs403NamingTheRolesAndAdminHasEveryRole) {
  StartServer(Fast());
  auto forbidden = Get("/api/v1/ops", kResearcher);
  ExpectProblem(forbidden, 403, "forbidden");
  EXPECT_NE(forbidden->Detail().find("operator"), std::string::npos) << forbidden->Detail();

  auto as_operator = Get("/api/v1/ops", kOperator);
  ASSERT_TRUE(as_operator);
  EXPECT_EQ(as_operator->status, 200u);
  auto as_admin = Get("/api/v1/ops", kAdmin);
  ASSERT_TRUE(as_admin);
  EXPECT_EQ(as_admin->status, 200u);
}

TEST_F(ApiHttpTest, PublicRouteNeedsNoCredentials) {
  StartServer(Fast());
  auto reply = Get("/healthz", "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->body, "ok");
  EXPECT_EQ(reply->Header("Content-Type"), "text/plain");
}

// --- handler results ----------------------------------------------------------------

TEST_F(ApiHttpTest, HandlerErrorsBecomeProblemsWithTheirStatus) {
  StartServer(Fast());
  struct Case {
    std::string_view code;
    unsigned status;
  };
  for (Case c : {Case{"invalid_argument", 400}, Case{"not_found", 404}, Case{"failed_precondition", 409},
                 Case{"unavailable", 503}, Case{"timeout", 504}, Case{"internal", 500}}) {
    SCOPED_TRACE(c.code);
    auto reply = Get(fmt::format("/api/v1/fail/{}", c.code));
    ExpectProblem(reply, c.status, c.code);
    if (c.code == "internal")
      EXPECT_EQ(reply->body.find("secret database detail"), std::string::npos) << reply->body;
    else
      EXPECT_EQ(reply->Detail(), "secret database detail");
  }
  auto conflict = Get("/api/v1/fail/conflict");
  ExpectProblem(conflict, 409, "conflict");
  json::object o = conflict->Json();
  EXPECT_EQ(o["stream"], json::value("pair-1"));
  EXPECT_EQ(o["expected"], json::value("3"));
  EXPECT_EQ(o["actual"], json::value(4));
}

TEST_F(ApiHttpTest, HandlerExceptionIs500AndTheServerKeepsServing) {
  StartServer(Fast());
  Client client(server_->port());
  auto thrown = client.Request("GET", "/api/v1/throw", "", kResearcher);
  ExpectProblem(thrown, 500, "internal");
  EXPECT_EQ(thrown->body.find("handler bug"), std::string::npos);
  auto after = client.Request("GET", "/healthz");  // same connection
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200u);
}

TEST_F(ApiHttpTest, FileAndRedirectResponses) {
  StartServer(Fast());
  auto file = Get("/api/v1/file");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 200u);
  EXPECT_EQ(file->body, "file contents\n");
  EXPECT_EQ(file->Header("Content-Type"), "text/plain");
  ExpectProblem(Get("/api/v1/missing-file"), 404, "not_found");
  auto redirect = Get("/api/v1/redirect");
  ASSERT_TRUE(redirect);
  EXPECT_EQ(redirect->status, 302u);
  EXPECT_EQ(redirect->Header("Location"), "https://s3.example/presigned");
}

// --- JSON bodies and parameters ---------------------------------------------------------

TEST_F(ApiHttpTest, JsonBodyErrorsAre400WithClearMessages) {
  StartServer(Fast());
  std::string target = fmt::format("/api/v1/pairs/{}/verify", kPairId);
  auto good = Post(target, R"({"note": "fine", "version": 3, "flags": ["a", "b"], "done": true})");
  ASSERT_TRUE(good);
  ASSERT_EQ(good->status, 200u) << good->body;
  EXPECT_EQ(good->Json()["version"], json::value(3));

  struct Case {
    std::string body;
    std::string detail;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"note": "x",})", "request body is not valid JSON"},
           {R"({"note": "x")", "at byte"},
           {"", "request body is empty"},
           {R"(["note"])", "request body must be a JSON object, got array"},
           {R"({"foo": 1})", "unknown field 'foo'; allowed: note, version, flags, done"},
           {R"({"version": "3"})", "field 'version' must be an integer, got string"},
           {R"({"version": 1.5})", "field 'version' must be an integer, got number"},
           {R"({"note": 7})", "field 'note' must be a string, got integer"},
           {R"({"done": "yes"})", "field 'done' must be a boolean, got string"},
           {R"({"flags": "a"})", "field 'flags' must be an array of strings, got string"},
           {R"({"flags": ["a", 2]})", "item 1 is integer"},
       }) {
    SCOPED_TRACE(c.body);
    auto reply = Post(target, c.body);
    ExpectProblem(reply, 400, "invalid_argument");
    EXPECT_NE(reply->Detail().find(c.detail), std::string::npos) << reply->Detail();
  }
}

TEST_F(ApiHttpTest, BadUuidIs400) {
  StartServer(Fast());
  for (std::string_view id : {"not-a-uuid", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400g"}) {
    SCOPED_TRACE(id);
    auto reply = Get(fmt::format("/api/v1/pairs/{}", id));
    ExpectProblem(reply, 400, "invalid_argument");
    EXPECT_NE(reply->Detail().find("is not a UUID"), std::string::npos) << reply->Detail();
  }
  auto upper = ParseUuidParam("123E4567-E89B-12D3-A456-426614174000");
  ASSERT_TRUE(upper);
  EXPECT_EQ(*upper, kPairId);
}

TEST(JsonBodyTest, RequiredStringMissingAndNullAreErrors) {
  static constexpr std::string_view kFields[] = {"name"};
  auto object = ParseJsonObject(R"({"name": null})", kFields);
  ASSERT_TRUE(object);
  auto name = RequiredString(*object, "name");
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_EQ(name.error().message, "missing required field 'name'");
  auto none = ParseJsonObject("{}", {});
  ASSERT_TRUE(none);
  auto unknown = ParseJsonObject(R"({"a": 1})", {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown field 'a'; allowed: (none)");
}

TEST(JsonBodyTest, ANulCharacterAnywhereIsRefusedWithItsPath) {
  static constexpr std::string_view kFields[] = {"note", "payload"};
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"note": "a\u0000b"})", "field 'note' holds a NUL character"},
      {R"({"payload": {"urls": ["http://x/", "http://y/\u0000"]}})", "field 'payload.urls[1]' holds a NUL character"},
      {R"({"payload": {"k\u0000": 1}})", "field 'payload.k?' holds a NUL character"},
  };
  for (const auto& [body, message] : cases) {
    auto parsed = ParseJsonObject(body, kFields);
    ASSERT_FALSE(parsed) << body;
    EXPECT_EQ(parsed.error().code, base::ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(message), std::string::npos) << parsed.error().message;
  }
  EXPECT_TRUE(ParseJsonObject(R"({"note": "caf\u00e9 \u0001"})", kFields)) << "other escapes are text";
}

// --- limits and timeouts -------------------------------------------------------------------

TEST_F(ApiHttpTest, OversizedBodyIs413AndTheConnectionEnds) {
  HttpServerOptions options = Fast();
  options.body_limit = 1024;
  StartServer(options);
  std::string target = fmt::format("/api/v1/pairs/{}/verify", kPairId);
  {
    Client client(server_->port());
    std::string body = R"({"note": ")" + std::string(5000, 'x') + R"("})";
    auto reply = client.Request("POST", target, body, kResearcher);
    ExpectProblem(reply, 413, "payload_too_large");
    EXPECT_FALSE(reply->keep_alive);
    EXPECT_TRUE(client.ClosedWithin(3s));
  }
  {  // chunked, so the size is only known while reading
    Client client(server_->port());
    std::string request = fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Transfer-Encoding: chunked\r\n\r\n", target,
                                      kResearcher);
    for (int i = 0; i < 4; ++i) request += fmt::format("{:x}\r\n{}\r\n", 512, std::string(512, ' '));
    request += "0\r\n\r\n";
    ASSERT_TRUE(client.Send(request));
    ExpectProblem(client.Read(), 413, "payload_too_large");
    EXPECT_TRUE(client.ClosedWithin(3s));
  }
  // Just under the limit still works.
  auto fits = Post(target, R"({"note": ")" + std::string(900, 'x') + R"("})");
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200u) << fits->body;
}

TEST_F(ApiHttpTest, HugeHeaderIs431) {
  StartServer(Fast());
  Client client(server_->port());
  auto reply = client.Request("GET", "/healthz", "", "X-Big: " + std::string(20000, 'a') + "\r\n");
  ExpectProblem(reply, 431, "header_too_large");
}

TEST_F(ApiHttpTest, HalfOpenConnectionIsClosedByTheReadTimeout) {
  HttpServerOptions options = Fast();
  options.read_timeout = 1s;
  StartServer(options);
  Client half(server_->port());
  ASSERT_TRUE(half.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: "));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(half.ClosedWithin(10s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 800ms);
  EXPECT_EQ(half.raw(), "");  // closed without an answer

  Client idle(server_->port());  // connected, never sends a byte
  EXPECT_TRUE(idle.ClosedWithin(10s));

  Client slow_body(server_->port());  // header complete, body trickles
  ASSERT_TRUE(slow_body.Send(fmt::format("POST /api/v1/pairs/{}/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{",
                                         kPairId)));
  EXPECT_TRUE(slow_body.ClosedWithin(10s));

  auto after = Get("/healthz", "");  // the server is fine
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200u);
}

TEST_F(ApiHttpTest, IdleKeepAliveConnectionIsClosedAfterTheReadTimeout) {
  HttpServerOptions options = Fast();
  options.read_timeout = 1s;
  StartServer(options);
  Client client(server_->port());
  auto reply = client.Request("GET", "/healthz");
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->keep_alive);
  EXPECT_TRUE(client.ClosedWithin(10s));
}

TEST_F(ApiHttpTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer(Fast());
  Client client(server_->port());
  for (int i = 0; i < 20; ++i) {
    auto reply = client.Request("GET", fmt::format("/api/v1/echo?i={}", i), "", kResearcher);
    ASSERT_TRUE(reply) << "request " << i;
    EXPECT_EQ(reply->status, 200u);
    EXPECT_TRUE(reply->keep_alive);
    EXPECT_EQ(reply->Json()["query"].as_object()["i"], json::value(std::to_string(i)));
  }
  auto last = client.Request("GET", "/healthz", "", "Connection: close\r\n");
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->keep_alive);
  EXPECT_TRUE(client.ClosedWithin(3s));
}

TEST_F(ApiHttpTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(Fast());
  Client client(server_->port());
  std::string requests;
  for (int i = 0; i < 3; ++i)
    requests += fmt::format("GET /api/v1/echo?i={} HTTP/1.1\r\nHost: x\r\n{}\r\n", i, kResearcher);
  ASSERT_TRUE(client.Send(requests));
  for (int i = 0; i < 3; ++i) {
    auto reply = client.Read();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->Json()["query"].as_object()["i"], json::value(std::to_string(i)));
  }
}

TEST_F(ApiHttpTest, StartFailsWhenThePortIsBusy) {
  StartServer(Fast());
  HttpServerOptions options = Fast();
  options.port = server_->port();
  HttpServer second(options, router_, nullptr);
  auto started = second.Start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, base::ErrorCode::kUnavailable);
  EXPECT_NE(started.error().message.find(std::to_string(server_->port())), std::string::npos);
}

TEST_F(ApiHttpTest, ConnectionsPastTheLimitGet503) {
  HttpServerOptions options = Fast();
  options.max_connections = 2;
  StartServer(options);
  Client a(server_->port()), b(server_->port());
  ASSERT_TRUE(a.Request("GET", "/healthz"));
  ASSERT_TRUE(b.Request("GET", "/healthz"));
  Client c(server_->port());
  ExpectProblem(c.Read(), 503, "unavailable");
}

// --- event streams and stopping ---------------------------------------------------------------

TEST_F(ApiHttpTest, EventStreamDeliversEventsAndEndsWhenTheServerStops) {
  StartServer(Fast());
  Client client(server_->port());
  ASSERT_TRUE(client.Send(fmt::format("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n{}\r\n", kResearcher)));
  ASSERT_TRUE(client.ReadUntilContains("id: 2\n")) << client.raw();
  EXPECT_TRUE(client.raw().starts_with("HTTP/1.1 200 OK\r\n")) << client.raw();
  EXPECT_NE(client.raw().find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(client.raw().find("X-Request-Id: "), std::string::npos);
  EXPECT_NE(client.raw().find("event: tick\nid: 0\ndata: {\"n\":0}\n\n"), std::string::npos) << client.raw();

  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { server_->Stop(); });
  EXPECT_TRUE(client.ClosedWithin(10s));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_TRUE(producer_ended_);
  EXPECT_GE(events_sent_.load(), 3);
}

TEST_F(ApiHttpTest, EventStreamProducerSeesTheClientGo) {
  StartServer(Fast());
  {
    Client client(server_->port());
    ASSERT_TRUE(client.Send(fmt::format("GET /api/v1/events HTTP/1.1\r\nHost: x\r\n{}\r\n", kResearcher)));
    ASSERT_TRUE(client.ReadUntilContains("id: 1\n"));
  }  // the client closes
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!producer_ended_ && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(producer_ended_);
}

TEST(EventStreamWriterTest, FormatsEventsAndCommentsAndStopsWhenUnwanted) {
  std::string out;
  bool wanted = true;
  EventStreamWriter writer(
      [&](std::string_view chunk) {
        out += chunk;
        return true;
      },
      [&] { return wanted; });
  EXPECT_TRUE(writer.Send("pair\nverified", "7", json::object{{"a", "x\ny"}}));
  EXPECT_TRUE(writer.Comment("keep\nalive"));
  EXPECT_EQ(out, "event: pairverified\nid: 7\ndata: {\"a\":\"x\\ny\"}\n\n: keep\n: alive\n\n");
  wanted = false;
  EXPECT_FALSE(writer.open());
  EXPECT_FALSE(writer.Send("x", "", json::value(nullptr)));
}

TEST_F(ApiHttpTest, StopLetsAnInFlightRequestFinishAndRefusesNewOnes) {
  StartServer(Fast());
  std::uint16_t port = server_->port();
  auto slow = std::async(std::launch::async, [port] {
    Client client(port);
    return client.Request("GET", "/api/v1/slow", "", kResearcher);
  });
  {
    std::unique_lock lock(gate_.mutex);
    ASSERT_TRUE(gate_.changed.wait_for(lock, 5s, [&] { return gate_.entered; }));
  }
  Client idle(port);  // idle keep-alive connection: closed at once by Stop
  ASSERT_TRUE(idle.Request("GET", "/healthz"));
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  auto stop_took = std::chrono::steady_clock::now() - start;
  auto reply = slow.get();
  ASSERT_TRUE(reply) << "the in-flight request got no answer";
  EXPECT_EQ(reply->status, 200u);
  EXPECT_FALSE(reply->keep_alive);  // Connection: close while stopping
  EXPECT_GE(stop_took, 500ms);      // it waited for the handler
  EXPECT_LT(stop_took, 15s);
  EXPECT_TRUE(idle.ClosedWithin(5s));
  Client late(port);
  EXPECT_FALSE(late.connected() && late.Request("GET", "/healthz").has_value());
}

// --- metrics ----------------------------------------------------------------------------------

TEST_F(ApiHttpTest, MetricsCountRequestsByRouteMethodAndStatus) {
  StartServer(Fast());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Get(fmt::format("/api/v1/pairs/{}", kPairId)));
  ASSERT_TRUE(Get("/api/v1/ops"));        // 403
  ASSERT_TRUE(Get("/no/such/path"));      // 404, unmatched
  std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("# TYPE furrsight_http_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("furrsight_http_requests_total{route=\"/api/v1/pairs/{id}\",method=\"GET\",status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("furrsight_http_requests_total{route=\"/api/v1/ops\",method=\"GET\",status=\"403\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("furrsight_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE furrsight_http_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("furrsight_http_request_duration_seconds_bucket{route=\"/api/v1/pairs/{id}\",method=\"GET\",le=\"+Inf\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("furrsight_http_request_duration_seconds_count{route=\"/api/v1/pairs/{id}\",method=\"GET\"} 3\n"),
            std::string::npos)
      << text;
}

TEST(MetricsRegistryTest, RendersCountersGaugesAndCumulativeHistograms) {
  MetricsRegistry registry;
  registry.RegisterCounter("jobs_total", "Jobs.");
  registry.RegisterGauge("lag", "Lag \"in\" events.\nSecond line.");
  registry.RegisterHistogram("latency_seconds", "Latency.", {0.1, 1});
  registry.Increment("jobs_total", {{"type", "SCRAPE_URL"}});
  registry.Increment("jobs_total", {{"type", "SCRAPE_URL"}}, 2);
  registry.Increment("jobs_total", {{"type", "a\"b\\c\nd"}});
  registry.SetGauge("lag", {}, 5);
  registry.AddGauge("lag", {}, -2);
  registry.Observe("latency_seconds", {}, 0.05);
  registry.Observe("latency_seconds", {}, 0.5);
  registry.Observe("latency_seconds", {}, 3);
  EXPECT_EQ(registry.RenderText(),
            "# HELP jobs_total Jobs.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{type=\"SCRAPE_URL\"} 3\n"
            "jobs_total{type=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP lag Lag \"in\" events.\\nSecond line.\n"
            "# TYPE lag gauge\n"
            "lag 3\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.1\"} 1\n"
            "latency_seconds_bucket{le=\"1\"} 2\n"
            "latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "latency_seconds_sum 3.55\n"
            "latency_seconds_count 3\n");
  EXPECT_THROW(registry.Increment("lag", {}), std::logic_error);
  EXPECT_THROW(registry.Observe("nope", {}, 1), std::logic_error);
}

TEST(MetricsRegistryTest, AGaugeFamilySetWholeDropsSeriesThatAreGoneToZero) {
  MetricsRegistry registry;
  registry.RegisterGauge("jobs", "Jobs by status.");
  registry.SetGaugeFamily("jobs", {{{{"status", "RUNNING"}}, 2}, {{{"status", "PENDING"}}, 5}});
  registry.SetGaugeFamily("jobs", {{{{"status", "COMPLETED"}}, 7}});
  EXPECT_EQ(registry.RenderText(),
            "# HELP jobs Jobs by status.\n"
            "# TYPE jobs gauge\n"
            "jobs{status=\"COMPLETED\"} 7\n"
            "jobs{status=\"PENDING\"} 0\n"
            "jobs{status=\"RUNNING\"} 0\n");
}

// --- generated malformed requests ----------------------------------------------------------------

std::string Printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  return out;
}

std::string MalformedRequest(std::mt19937& rng, int i, std::string_view pair_id) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_bytes = [&](int n) {
    std::string out;
    for (int k = 0; k < n; ++k) out += static_cast<char>(rng() & 0xff);
    return out;
  };
  std::string verify = fmt::format("/api/v1/pairs/{}/verify", pair_id);
  switch (i % 10) {
    case 0: return random_bytes(1 + pick(300));
    case 1: {  // broken request line
      static const char* kLines[] = {"GET\r\n", "GET /healthz\r\n", "GET /healthz HTTP/9.9\r\n", " / HTTP/1.1\r\n",
                                     "GET  /healthz  HTTP/1.1\r\n", "G\x01T /healthz HTTP/1.1\r\n",
                                     "GET /heal\x7fthz HTTP/1.1\r\n", "GET /healthz HTTP/1.1 extra\r\n",
                                     "\r\n\r\n\r\n", "GET /healthz HTTP/1.1\n"};
      return std::string(kLines[pick(10)]) + "Host: x\r\n\r\n";
    }
    case 2: {  // bad headers
      static const char* kHeaders[] = {"Host x\r\n", ": empty-name\r\n", "Bad Name: v\r\n", "X: \x01\x02\r\n",
                                       "Content-Length: -5\r\n", "Content-Length: abc\r\n",
                                       "Content-Length: 3\r\nContent-Length: 4\r\n",
                                       "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
                                       " folded: header\r\n"};
      return std::string("POST ") + verify + " HTTP/1.1\r\nHost: x\r\n" + kHeaders[pick(10)] + "\r\n";
    }
    case 3: case 4: {  // bad JSON bodies
      static const char* kBodies[] = {"{", "}", "[1,2", "{\"note\":}", "{\"note\": \"\\u12\"}", "nul",
                                      "{\"version\": 1e999999}", "\"just a string\"", "{\"a\":1,\"a\":2}",
                                      "{\"flags\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"};
      std::string body = pick(2) == 0 ? kBodies[pick(10)] : "{\"note\": \"" + random_bytes(pick(40)) + "\"}";
      return fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Content-Length: {}\r\n\r\n{}", verify, kResearcher,
                         body.size(), body);
    }
    case 5: {  // huge header or many headers
      if (pick(2) == 0) return "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17000 + pick(5000), 'a') + "\r\n\r\n";
      std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
      for (int k = 0; k < 2000; ++k) request += fmt::format("X-{}: {}\r\n", k, k);
      return request + "\r\n";
    }
    case 6: {  // bad targets and parameters
      static const char* kTargets[] = {"/api/v1/pairs/%zz", "/api/v1/pairs/%00", "//", "*", "/api/v1/echo?%%%=%",
                                       "/api/v1/pairs/../../etc/passwd", "http://evil/", "/api/v1/pairs/\xff\xfe",
                                       "/api/v1/fail/%2e%2e", "/api/v1/pairs/123e4567-e89b-12d3-a456-42661417400"};
      return fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n{}\r\n", kTargets[pick(10)], kResearcher);
    }
    case 7: {  // body shorter than its Content-Length (the client then half-closes)
      return fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Content-Length: 50\r\n\r\n{{\"note\"", verify, kResearcher);
    }
    case 8: {  // a valid request with random bytes flipped
      std::string request = fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Content-Length: 15\r\n\r\n{{\"note\": \"ok\"}}",
                                        verify, kResearcher);
      for (int k = 0; k < 1 + pick(4); ++k) request[static_cast<std::size_t>(pick(static_cast<int>(request.size())))] = static_cast<char>(rng() & 0xff);
      return request;
    }
    default: {  // unknown methods, bad chunked bodies
      if (pick(2) == 0) return "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
      return fmt::format("POST {} HTTP/1.1\r\nHost: x\r\n{}Transfer-Encoding: chunked\r\n\r\n{}\r\n", verify,
                         kResearcher, pick(2) == 0 ? "fffffffffffffffffff" : "5\r\nab");
    }
  }
}

TEST_F(ApiHttpTest, ThousandsOfMalformedRequestsGetNo5xxAndTheServerStillServes) {
  HttpServerOptions options = Fast();
  options.body_limit = 4096;
  StartServer(options);
  std::mt19937 rng(20261207);
  constexpr int kRequests = 1200;
  int answered = 0, closed_silently = 0, client_errors = 0;
  for (int i = 0; i < kRequests; ++i) {
    std::string request = MalformedRequest(rng, i, kPairId);
    Client client(server_->port());
    ASSERT_TRUE(client.connected()) << "request " << i;
    client.Send(request, 2000ms);  // may fail if the server already answered and closed
    client.ShutdownSend();
    auto reply = client.Read(3000ms);
    if (!reply) {
      ++closed_silently;
      continue;
    }
    ++answered;
    EXPECT_LT(reply->status, 500u) << "request " << i << ": " << Printable(request)
                                   << " → " << reply->body;
    if (reply->status >= 400) ++client_errors;
  }
  std::printf("malformed requests: %d answered (%d with 4xx), %d closed without an answer\n", answered,
              client_errors, closed_silently);
  // Most of them are answered (400, 401, 404, 405, 413, 431...), not just dropped.
  EXPECT_GT(answered, kRequests / 2) << "closed without an answer: " << closed_silently;
  EXPECT_GT(client_errors, kRequests / 2);
  auto good = Get(fmt::format("/api/v1/pairs/{}", kPairId));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200u);
  std::string text = metrics_.RenderText();
  EXPECT_EQ(text.find("status=\"5"), std::string::npos) << text;
}

}  // namespace
}  // namespace furrsight::api
