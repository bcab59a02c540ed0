#include "tests/support/http_test_server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

namespace furrsight::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxRequestBody = 8 << 20;
constexpr std::size_t kFillerChunk = 64 * 1024;
constexpr int kIdleTimeoutSeconds = 30;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool HasHeader(const HttpTestResponse& response, std::string_view name) {
  return std::any_of(response.headers.begin(), response.headers.end(),
                     [&](const auto& h) { return Lower(h.first) == Lower(name); });
}

}  // namespace

struct HttpTestServer::Io {
  asio::io_context context;
  tcp::acceptor acceptor{context};
};

struct HttpTestServer::Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
};

// --- requests and responses ---------------------------------------------------

std::string HttpTestRequest::Header(std::string_view name) const {
  std::string key = Lower(name);
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return "";
}

std::string HttpTestRequest::QueryParam(std::string_view key) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (FormDecode(pair.substr(0, eq)) == key)
      return eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
  }
  return "";
}

HttpTestResponse& HttpTestResponse::Header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

HttpTestResponse HttpTestResponse::Html(std::string body) {
  return Bytes(std::move(body), "text/html; charset=utf-8");
}

HttpTestResponse HttpTestResponse::Text(std::string body, std::string content_type) {
  return Bytes(std::move(body), std::move(content_type));
}

HttpTestResponse HttpTestResponse::Json(std::string body) { return Bytes(std::move(body), "application/json"); }

HttpTestResponse HttpTestResponse::Bytes(std::string body, std::string content_type) {
  HttpTestResponse response;
  response.body = std::move(body);
  response.Header("Content-Type", std::move(content_type));
  return response;
}

HttpTestResponse HttpTestResponse::Status(int status, std::string body) {
  HttpTestResponse response = Text(std::move(body));
  response.status = status;
  return response;
}

HttpTestResponse HttpTestResponse::Redirect(std::string location, int status) {
  HttpTestResponse response = Status(status);
  response.Header("Location", std::move(location));
  return response;
}

// --- the server -----------------------------------------------------------------

HttpTestServer::HttpTestServer(std::string address) : io_(std::make_unique<Io>()), address_(std::move(address)) {
  tcp::endpoint endpoint(asio::ip::make_address(address_), 0);
  io_->acceptor.open(endpoint.protocol());
  io_->acceptor.set_option(asio::socket_base::reuse_address(true));
  io_->acceptor.bind(endpoint);
  io_->acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = io_->acceptor.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() { Stop(); }

std::string HttpTestServer::Url(std::string_view path) const {
  bool v6 = address_.find(':') != std::string::npos;
  return UrlFor(v6 ? "[" + address_ + "]" : address_, path);
}

std::string HttpTestServer::UrlFor(std::string_view host, std::string_view path) const {
  return fmt::format("http://{}:{}{}", host, port_, path);
}

void HttpTestServer::Route(std::string path, HttpTestHandler handler) {
  std::lock_guard lock(mu_);
  exact_[std::move(path)] = std::move(handler);
}

void HttpTestServer::Route(std::string path, HttpTestResponse response) {
  Route(std::move(path), [response = std::move(response)](const HttpTestRequest&) { return response; });
}

void HttpTestServer::RoutePrefix(std::string prefix, HttpTestHandler handler) {
  std::lock_guard lock(mu_);
  prefixes_.emplace_back(std::move(prefix), std::move(handler));
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

void HttpTestServer::Fallback(HttpTestHandler handler) {
  std::lock_guard lock(mu_);
  fallback_ = std::move(handler);
}

std::vector<HttpTestRequest> HttpTestServer::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<HttpTestExchange> HttpTestServer::Exchanges() const {
  std::lock_guard lock(mu_);
  return exchanges_;
}

std::size_t HttpTestServer::RequestCount(std::string_view path) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(requests_.begin(), requests_.end(), [&](const auto& r) { return r.path == path; }));
}

int HttpTestServer::MaxInFlight() const {
  std::lock_guard lock(mu_);
  return max_in_flight_;
}

int HttpTestServer::MaxInFlight(std::string_view host) const {
  std::lock_guard lock(mu_);
  auto it = host_in_flight_.find(Lower(host));
  return it == host_in_flight_.end() ? 0 : it->second.second;
}

void HttpTestServer::ResetObservations() {
  std::lock_guard lock(mu_);
  requests_.clear();
  exchanges_.clear();
  max_in_flight_ = in_flight_;
  for (auto& [host, counts] : host_in_flight_) counts.second = counts.first;
}

void HttpTestServer::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !acceptor_thread_.joinable()) return;
    stopping_ = true;
    // shutdown(2) wakes the threads blocked in accept and recv on these sockets.
    ::shutdown(io_->acceptor.native_handle(), SHUT_RDWR);
    for (auto& connection : connections_) ::shutdown(connection->socket.native_handle(), SHUT_RDWR);
  }
  stopped_cv_.notify_all();
  if (acceptor_thread_.joinable()) acceptor_thread_.join();
  {
    std::lock_guard lock(mu_);
    threads.swap(connection_threads_);
  }
  for (auto& thread : threads) thread.join();
  boost::system::error_code ignored;
  io_->acceptor.close(ignored);
}

void HttpTestServer::AcceptLoop() {
  while (true) {
    tcp::socket socket(io_->context);
    boost::system::error_code ec;
    io_->acceptor.accept(socket, ec);
    std::lock_guard lock(mu_);
    if (stopping_) return;
    if (ec) continue;
    timeval idle{kIdleTimeoutSeconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket));
    connections_.push_back(connection);
    connection_threads_.emplace_back([this, connection] { Serve(connection); });
  }
}

HttpTestResponse HttpTestServer::Dispatch(const HttpTestRequest& request) const {
  HttpTestHandler handler;
  {
    std::lock_guard lock(mu_);
    if (auto it = exact_.find(request.path); it != exact_.end()) {
      handler = it->second;
    } else {
      for (const auto& [prefix, h] : prefixes_)
        if (request.path.starts_with(prefix)) {
          handler = h;
          break;
        }
      if (!handler) handler = fallback_;
    }
  }
  if (!handler) return HttpTestResponse::Status(404, "no route for " + request.path);
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return HttpTestResponse::Status(500, std::string("test handler threw: ") + e.what());
  }
}

void HttpTestServer::Serve(std::shared_ptr<Connection> connection) {
  boost::beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    boost::system::error_code ec;
    http::read(connection->socket, buffer, parser, ec);
    if (ec) break;
    const auto& message = parser.get();

    HttpTestRequest request;
    request.received_at = std::chrono::steady_clock::now();
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    std::size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    for (const auto& field : message) request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
    std::string host = Lower(request.Header("host"));
    if (!host.starts_with('[')) host = host.substr(0, host.rfind(':'));
    request.host = host.starts_with('[') ? host.substr(0, host.find(']') + 1) : host;
    request.body = message.body();
    bool keep_alive = message.keep_alive();

    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      requests_.push_back(request);
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      auto& [now, max] = host_in_flight_[request.host];
      max = std::max(max, ++now);
    }
    HttpTestResponse response = Dispatch(request);
    HttpTestExchange exchange{request, response.status, 0, false, {}};
    bool sent = Send(*connection, request, response, exchange);
    exchange.finished_at = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      --host_in_flight_[request.host].first;
      exchanges_.push_back(std::move(exchange));
    }
    if (!sent || response.close_delimited || !keep_alive) break;
  }
  std::lock_guard lock(mu_);
  boost::system::error_code ignored;
  connection->socket.shutdown(tcp::socket::shutdown_both, ignored);
  connection->socket.close(ignored);
  std::erase(connections_, connection);
}

bool HttpTestServer::SleepFor(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return !stopped_cv_.wait_for(lock, duration, [this] { return stopping_; });
}

bool HttpTestServer::Send(Connection& connection, const HttpTestRequest& request, const HttpTestResponse& response,
                          HttpTestExchange& exchange) {
  if (response.delay.count() > 0 && !SleepFor(response.delay)) return false;
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status,
                                 std::string_view(http::obsolete_reason(static_cast<http::status>(response.status))));
  for (const auto& [name, value] : response.headers) head += fmt::format("{}: {}\r\n", name, value);
  std::size_t body_size = response.body.size() + response.filler_bytes;
  if (response.close_delimited) {
    head += "Connection: close\r\n";
  } else if (!HasHeader(response, "content-length")) {
    head += fmt::format("Content-Length: {}\r\n", body_size);
  }
  head += "\r\n";
  boost::system::error_code ec;
  asio::write(connection.socket, asio::buffer(head), ec);
  if (ec) return false;
  if (request.method == "HEAD") {
    exchange.completed = true;
    return true;
  }

  static const std::string kFiller(kFillerChunk, 'Z');
  std::size_t piece = response.drip_bytes > 0 ? response.drip_bytes : kFillerChunk;
  std::size_t offset = 0;
  while (offset < body_size) {
    if (response.drip_bytes > 0 && response.drip_interval.count() > 0 && !SleepFor(response.drip_interval))
      return false;
    std::size_t n = std::min(piece, body_size - offset);
    std::string chunk;
    if (offset < response.body.size()) {
      chunk = response.body.substr(offset, std::min(n, response.body.size() - offset));
    } else {
      chunk = kFiller.substr(0, std::min(n, kFiller.size()));
    }
    asio::write(connection.socket, asio::buffer(chunk), ec);
    if (ec) return false;
    offset += chunk.size();
    exchange.body_bytes_sent = offset;
  }
  exchange.completed = true;
  return true;
}

}  // namespace furrsight::testing
