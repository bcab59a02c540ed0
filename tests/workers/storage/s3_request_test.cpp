// S3BlobStore's requests, as a server sees them: a small loopback HTTP
// server records each request and answers with a canned S3 response. s3rver
// (the harness's S3) does not check SigV4 signatures at all, so this is
// where libcurl's signatures are checked: recomputed with sigv4.hpp, which
// sigv4_test.cpp checks against AWS's own examples.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "events/base/sha256.hpp"
#include "tests/workers/storage/temp_dir.hpp"
#include "workers/storage/s3_blob_store.hpp"

namespace furrsight::workers {
namespace {

using base::ErrorCode;

struct CapturedRequest {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return std::nullopt;
  }
};

struct CannedResponse {
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  bool head = false;  // answer to a HEAD: Content-Length of `body`, no body sent
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// Serves one canned response per connection, in order, then stops.
class FakeS3 {
 public:
  explicit FakeS3(std::vector<CannedResponse> responses) : responses_(std::move(responses)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("FakeS3: cannot listen on loopback");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeS3() {
    thread_.join();
    ::close(listen_fd_);
  }

  std::string Endpoint() const { return fmt::format("http://127.0.0.1:{}", port_); }
  std::vector<CapturedRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (const auto& response : responses_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 10000) != 1) return;  // the client never came: the test fails on its own
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      CapturedRequest request = Read(fd);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
      }
      std::string out = fmt::format("HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n", response.status,
                                    response.body.size());
      for (const auto& h : response.headers) out += h + "\r\n";
      out += "\r\n";
      if (!response.head) out += response.body;
      Send(fd, out);
      ::close(fd);
    }
  }

  static void Send(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  static CapturedRequest Read(int fd) {
    CapturedRequest r;
    std::string data;
    char buf[65536];
    std::size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return r;
      data.append(buf, static_cast<std::size_t>(n));
    }
    std::string_view head(data.data(), header_end);
    std::size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    r.method = std::string(line.substr(0, line.find(' ')));
    r.target = std::string(line.substr(line.find(' ') + 1, line.rfind(' ') - line.find(' ') - 1));
    while (eol != std::string_view::npos) {
      head.remove_prefix(eol + 2);
      eol = head.find("\r\n");
      std::string_view h = head.substr(0, eol);
      std::size_t colon = h.find(':');
      if (colon != std::string_view::npos)
        r.headers.emplace_back(Lower(std::string(h.substr(0, colon))), Trimmed(h.substr(colon + 1)));
    }
    r.body = data.substr(header_end + 4);
    if (r.Header("expect") == "100-continue") Send(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    std::size_t length = std::stoull(r.Header("content-length").value_or("0"));
    while (r.body.size() < length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      r.body.append(buf, static_cast<std::size_t>(n));
    }
    return r;
  }

  std::vector<CannedResponse> responses_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<CapturedRequest> requests_;  // guarded by mu_
};

const sigv4::Credentials kCredentials{"AKIDFURRSIGHT", "secret/key+with=odd chars", "eu-west-3", "s3"};

std::unique_ptr<S3BlobStore> StoreFor(const FakeS3& server) {
  auto store = S3BlobStore::Create({.endpoint = server.Endpoint(),
                                    .bucket = "pairs",
                                    .region = kCredentials.region,
                                    .access_key = kCredentials.access_key,
                                    .secret_key = kCredentials.secret_key});
  if (!store) throw std::runtime_error(store.error().ToString());
  return std::move(*store);
}

// Recomputes the request's SigV4 signature from what arrived.
::testing::AssertionResult SignedCorrectly(const CapturedRequest& r) {
  auto auth = r.Header("authorization");
  if (!auth) return ::testing::AssertionFailure() << "no Authorization header";
  auto field = [&](std::string_view name) -> std::string {
    std::size_t b = auth->find(std::string(name) + "=");
    if (b == std::string::npos) return {};
    b += name.size() + 1;
    return auth->substr(b, auth->find(',', b) - b);
  };
  const std::string amz_date = r.Header("x-amz-date").value_or("");
  const std::string credential = field("Credential");
  if (credential != fmt::format("{}/{}", kCredentials.access_key, sigv4::Scope(kCredentials, amz_date)))
    return ::testing::AssertionFailure() << "credential scope " << credential;
  sigv4::CanonicalRequest canonical{.method = r.method,
                                    .path = r.target.substr(0, r.target.find('?')),
                                    .query = "",
                                    .headers = {},
                                    .payload_hash = r.Header("x-amz-content-sha256").value_or("")};
  std::string signed_headers = field("SignedHeaders");
  std::size_t start = 0;
  while (start <= signed_headers.size()) {
    std::size_t semi = signed_headers.find(';', start);
    std::string name = signed_headers.substr(start, semi - start);
    auto value = r.Header(name);
    if (!value) return ::testing::AssertionFailure() << "signed header '" << name << "' was not sent";
    canonical.headers.emplace_back(name, *value);
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  for (std::string_view must : {"host", "x-amz-content-sha256", "x-amz-date"})
    if (std::none_of(canonical.headers.begin(), canonical.headers.end(),
                     [&](const auto& h) { return h.first == must; }))
      return ::testing::AssertionFailure() << must << " is not signed";
  const std::string expected = sigv4::Signature(kCredentials, amz_date, canonical);
  if (field("Signature") != expected)
    return ::testing::AssertionFailure() << "signature " << field("Signature") << ", expected " << expected
                                         << " for\n" << canonical.Text();
  return ::testing::AssertionSuccess();
}

TEST(S3Requests, PutSendsTheBytesWithTheirHashAndAValidSignature) {
  FakeS3 server(std::vector<CannedResponse>{{.status = 200}});
  auto put = StoreFor(server)->Put("images/poodle.jpg", "jpeg!", {.content_type = "image/jpeg"});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/pairs/images/poodle.jpg");
  EXPECT_EQ(r.body, "jpeg!");
  EXPECT_EQ(r.Header("x-amz-content-sha256"), base::Sha256Hex("jpeg!"));
  EXPECT_EQ(r.Header("x-amz-meta-sha256"), base::Sha256Hex("jpeg!"));
  EXPECT_EQ(r.Header("content-type"), "image/jpeg");
  EXPECT_TRUE(SignedCorrectly(r));
}

TEST(S3Requests, SignatureCheckNoticesATamperedRequest) {
  FakeS3 server(std::vector<CannedResponse>{{.status = 200}});
  ASSERT_TRUE(StoreFor(server)->Put("k", "bytes", {.content_type = "image/png"}).has_value());
  const CapturedRequest sent = server.Requests().at(0);
  ASSERT_TRUE(SignedCorrectly(sent));
  CapturedRequest changed_type = sent, changed_path = sent, changed_hash = sent;
  for (auto& [name, value] : changed_type.headers)
    if (name == "content-type") value = "image/jpeg";
  changed_path.target = "/pairs/other";
  for (auto& [name, value] : changed_hash.headers)
    if (name == "x-amz-content-sha256") value = std::string(sigv4::kEmptyPayloadHash);
  EXPECT_FALSE(SignedCorrectly(changed_type));
  EXPECT_FALSE(SignedCorrectly(changed_path));
  EXPECT_FALSE(SignedCorrectly(changed_hash));
}

TEST(S3Requests, PutFileStreamsTheFileAndSignsIt) {
  testing::TempDir dir("s3req");
  const auto file = dir / "export.tar";
  std::string bytes(3 << 20, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 % 251);
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

  FakeS3 server(std::vector<CannedResponse>{{.status = 200}});
  auto put = StoreFor(server)->PutFile("exports/e.tar", file, {.content_type = "application/x-tar"});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_EQ(put->size, bytes.size());
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body.size(), bytes.size());
  EXPECT_TRUE(requests[0].body == bytes);
  EXPECT_EQ(requests[0].Header("x-amz-content-sha256"), base::Sha256Hex(bytes));
  EXPECT_TRUE(SignedCorrectly(requests[0]));
}

TEST(S3Requests, GetAndHeadAreSignedAndReadTheObjectsMetadata) {
  const std::string sha = base::Sha256Hex("hello");
  FakeS3 server({{.status = 200, .headers = {"Content-Type: text/plain", "x-amz-meta-sha256: " + sha}, .body = "hello"},
                 {.status = 200,
                  .headers = {"Content-Type: text/plain", "x-amz-meta-sha256: " + sha},
                  .body = "hello",
                  .head = true}});
  auto store = StoreFor(server);
  auto got = store->Get("a/b");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, "hello");
  auto head = store->Head("a/b");
  ASSERT_TRUE(head.has_value()) << head.error().ToString();
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->sha256, sha);
  auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "HEAD");
  for (const auto& r : requests) {
    EXPECT_EQ(r.Header("x-amz-content-sha256"), std::string(sigv4::kEmptyPayloadHash));
    EXPECT_TRUE(SignedCorrectly(r));
  }
}

TEST(S3Requests, ErrorAnswersNameTheStatusAndS3sCode) {
  auto xml = [](std::string_view code, std::string_view message) {
    return fmt::format("<?xml version=\"1.0\"?><Error><Code>{}</Code><Message>{}</Message></Error>", code, message);
  };
  FakeS3 server({{.status = 404, .body = xml("NoSuchKey", "The specified key does not exist.")},
                 {.status = 403, .body = xml("SignatureDoesNotMatch", "Check your key and signing method.")},
                 {.status = 503, .body = xml("SlowDown", "Reduce your request rate.")},
                 {.status = 404, .body = xml("NoSuchBucket", "no bucket"), .head = true}});
  auto store = StoreFor(server);
  bool sink_called = false;
  auto missing = store->GetTo("gone", [&](std::string_view) -> base::Result<void> {
    sink_called = true;
    return {};
  });
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "S3 GET pairs/gone: HTTP 404 NoSuchKey: The specified key does not exist.");
  EXPECT_FALSE(sink_called) << "an error body must not reach the sink";

  auto denied = store->Put("k", "x", {});
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(denied.error().message.find("HTTP 403 SignatureDoesNotMatch"), std::string::npos);

  auto busy = store->Get("k");
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(busy.error().message.find("HTTP 503 SlowDown"), std::string::npos);

  auto head = store->Head("k");  // a HEAD answer has no body to name the code
  ASSERT_FALSE(head.has_value());
  EXPECT_EQ(head.error().code, ErrorCode::kNotFound);
  EXPECT_NE(head.error().message.find("HTTP 404"), std::string::npos);
}

TEST(S3Requests, UnreachableEndpointIsUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);  // bound, never listened: nothing answers there
  auto store = S3BlobStore::Create({.endpoint = fmt::format("http://127.0.0.1:{}", port),
                                    .bucket = "pairs",
                                    .access_key = "a",
                                    .secret_key = "b"});
  ASSERT_TRUE(store.has_value());
  auto got = (*store)->Get("k");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kUnavailable);
}

TEST(S3Options, CreateRefusesWhatCannotWork) {
  S3Options good{.endpoint = "http://127.0.0.1:9000", .bucket = "furrsight", .access_key = "a", .secret_key = "b"};
  EXPECT_TRUE(S3BlobStore::Create(good).has_value());
  auto with = [&](auto change) {
    S3Options o = good;
    change(o);
    return S3BlobStore::Create(o);
  };
  EXPECT_FALSE(with([](S3Options& o) { o.endpoint = "127.0.0.1:9000"; }));
  EXPECT_FALSE(with([](S3Options& o) { o.endpoint = "http://host/prefix"; }));
  EXPECT_FALSE(with([](S3Options& o) { o.endpoint = "ftp://host"; }));
  EXPECT_FALSE(with([](S3Options& o) { o.bucket = "Bad_Bucket"; }));
  EXPECT_FALSE(with([](S3Options& o) { o.bucket = ""; }));
  EXPECT_FALSE(with([](S3Options& o) { o.secret_key = ""; }));
  auto trailing = with([](S3Options& o) { o.endpoint = "https://s3.example.com/"; });
  ASSERT_TRUE(trailing.has_value());
  EXPECT_EQ((*trailing)->options().endpoint, "https://s3.example.com");
}

TEST(S3Options, PresignedUrlsArePathStyleAndLastOneSecondToSevenDays) {
  auto store = S3BlobStore::Create(
      {.endpoint = "http://127.0.0.1:9000", .bucket = "furrsight", .access_key = "AK", .secret_key = "SK"});
  ASSERT_TRUE(store.has_value());
  const auto now = std::chrono::system_clock::from_time_t(1369353600);
  auto url = (*store)->PresignGetAt("sha256/ab/cd/abcd", std::chrono::seconds(3600), now);
  ASSERT_TRUE(url.has_value());
  EXPECT_TRUE(url->starts_with("http://127.0.0.1:9000/furrsight/sha256/ab/cd/abcd?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                               "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
                               "&X-Amz-Signature="))
      << *url;
  EXPECT_FALSE((*store)->PresignGetAt("k", std::chrono::seconds(0), now).has_value());
  EXPECT_FALSE((*store)->PresignGetAt("k", std::chrono::seconds(604801), now).has_value());
  EXPECT_TRUE((*store)->PresignGetAt("k", std::chrono::seconds(604800), now).has_value());
}

}  // namespace
}  // namespace furrsight::workers
