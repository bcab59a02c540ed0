#include "orchestrator/api/http/http_server.hpp"

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/api/http/problem.hpp"

namespace furrsight::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr unsigned kMinStatus = 100;
constexpr unsigned kMaxStatus = 599;
// After an error response the connection drains what the client still sends
// (so it can read the response instead of getting a reset) for this long, or
// this many bytes, then closes.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::chrono::milliseconds kStopLingerTime{250};  // shorter while the server stops
constexpr std::size_t kLingerBytes = 8 * 1024 * 1024;
constexpr std::size_t kLingerChunk = 16 * 1024;
// How long Stop() waits, after shutdown_grace, for forcibly closed
// connections to wind down.
constexpr std::chrono::seconds kForcedCloseWait{2};
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
constexpr std::chrono::milliseconds kStopPollInterval{50};

std::string WithoutLineBreaks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

std::string MethodText(http::verb verb, beast::string_view raw) {
  if (verb != http::verb::unknown) {
    auto name = http::to_string(verb);
    return std::string(name.data(), name.size());
  }
  return raw.size() <= 16 ? std::string(raw.data(), raw.size()) : std::string("unknown");
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

}  // namespace

class Session;

struct HttpServer::State {
  State(HttpServerOptions o, const Router& r, MetricsRegistry* m) : options(std::move(o)), router(r) {
    if (m != nullptr) request_metrics.emplace(*m);
  }

  void Register(Session* session, const std::shared_ptr<Session>& shared) {
    std::lock_guard lock(mutex);
    sessions.emplace(session, shared);
  }
  void Unregister(Session* session) {
    std::lock_guard lock(mutex);
    sessions.erase(session);
    sessions_changed.notify_all();
  }
  std::size_t SessionCount() {
    std::lock_guard lock(mutex);
    return sessions.size();
  }
  // Checks the clock itself in short waits: a condition variable's timed
  // wait alone returned at once under ThreadSanitizer (g++ 12).
  void WaitForNoSessions(std::chrono::steady_clock::duration limit) {
    auto deadline = Clock::now() + limit;
    std::unique_lock lock(mutex);
    while (!sessions.empty() && Clock::now() < deadline) sessions_changed.wait_for(lock, kStopPollInterval);
  }
  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::lock_guard lock(mutex);
    std::vector<std::shared_ptr<Session>> out;
    for (auto& [raw, weak] : sessions)
      if (auto shared = weak.lock()) out.push_back(std::move(shared));
    return out;
  }

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  const HttpServerOptions options;
  const Router& router;
  std::optional<RequestMetrics> request_metrics;
  std::atomic<bool> stopping{false};
  bool started = false;  // used only by Start/Stop's thread
  std::uint16_t port = 0;

  std::mutex mutex;
  std::condition_variable sessions_changed;
  std::map<Session*, std::weak_ptr<Session>> sessions;  // guarded by mutex

  std::unique_ptr<asio::thread_pool> workers;
  std::vector<std::thread> io_threads;
  // Declared last so it is destroyed first: handlers still queued in it own
  // sessions, whose destructors use the members above.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
};

// One connection. Lives as long as an operation holds it (shared_ptr); every
// member except closed_ is touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::State& state) : stream_(std::move(socket)), state_(state) {}
  ~Session() { state_.Unregister(this); }

  void Run(bool reject_busy) {
    state_.Register(this, shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(), reject_busy] {
      if (reject_busy)
        self->SendErrorAndClose(503, "unavailable", "the server has too many connections; retry shortly", "");
      else
        self->DoRead();
    });
  }

  // Posted by Stop(): idle (or half-received) connections close now; one
  // whose request is being handled closes after its response.
  void OnServerStop() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::kReading) self->Close();
    });
  }
  void ForceClose() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Phase { kReading, kHandling, kWriting, kStreaming, kClosing };

  void DoRead() {
    if (closed_) return;
    if (state_.stopping) return Close();
    phase_ = Phase::kReading;
    parser_.emplace();
    parser_->body_limit(state_.options.body_limit);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(state_.options.read_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (closed_) return;
    if (ec) {
      std::string method = parser_->is_header_done()
                               ? MethodText(parser_->get().method(), parser_->get().method_string())
                               : std::string("unknown");
      if (ec == http::error::body_limit)
        return SendErrorAndClose(413, "payload_too_large",
                                 fmt::format("the request body is larger than the limit of {} bytes",
                                             state_.options.body_limit),
                                 method);
      if (ec == http::error::header_limit)
        return SendErrorAndClose(431, "header_too_large",
                                 fmt::format("the request header is larger than the limit of {} bytes", kHeaderLimit),
                                 method);
      if (ec == http::error::end_of_stream) return Close();  // clean close between requests
      if (IsHttpParseError(ec) && ec != http::error::partial_message)
        return SendErrorAndClose(400, "bad_request", fmt::format("malformed HTTP request: {}", ec.message()), method);
      if (ec == http::error::partial_message && !state_.stopping)  // the client half-closed mid-request
        return SendErrorAndClose(400, "bad_request", "the request ended before it was complete", method);
      return Close();  // timeout, reset, or cancelled by Stop()
    }

    http::request<http::string_body> message = parser_->release();
    ApiRequest request;
    request.method = message.method();
    request.SetTarget(std::string_view(message.target().data(), message.target().size()));
    for (const auto& field : message)
      request.AddHeader(std::string_view(field.name_string().data(), field.name_string().size()),
                        std::string(field.value().data(), field.value().size()));
    request.body = std::move(message.body());
    keep_alive_ = message.keep_alive();
    std::string method = MethodText(message.method(), message.method_string());

    phase_ = Phase::kHandling;
    stream_.expires_never();
    Clock::time_point start = Clock::now();
    asio::post(*state_.workers, [self = shared_from_this(), request = std::move(request), method, start]() mutable {
      self->HandleOnWorker(std::move(request), std::move(method), start);
    });
  }

  // On a worker thread: the router, and opening a file to send.
  void HandleOnWorker(ApiRequest request, std::string method, Clock::time_point start) {
    ApiResponse response;
    try {
      response = state_.router.Handle(request);
    } catch (const std::exception& e) {  // Router::Handle catches handlers' exceptions; this is a bug
      base::log::Error("api: router threw", {{"what", e.what()}, {"request_id", request.request_id}});
      response = Problem(500, "internal", "the server failed to handle the request; it has been logged");
    }
    std::shared_ptr<http::file_body::value_type> file;
    if (response.kind == ApiResponse::Kind::kFile) {
      file = std::make_shared<http::file_body::value_type>();
      beast::error_code ec;
      file->open(response.file.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        base::log::Warn("api: cannot open file to send",
                        {{"path", response.file.string()}, {"error", ec.message()}});
        ApiResponse missing = Problem(404, "not_found", "the file behind this resource is missing");
        StampProblemRequestId(missing, request.request_id);
        missing.headers.emplace_back("X-Request-Id", request.request_id);
        response = std::move(missing);
        file.reset();
      }
    }
    if (state_.request_metrics)
      state_.request_metrics->Record(request.route_pattern, method, response.status, Clock::now() - start);
    asio::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response), file]() mutable {
      self->Respond(std::move(response), std::move(file));
    });
  }

  template <class Body>
  void FillHeaders(http::response<Body>& message, const ApiResponse& response, bool keep_alive) {
    message.version(11);
    message.result(response.status >= kMinStatus && response.status <= kMaxStatus ? response.status : 500);
    if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers)
      message.insert(WithoutLineBreaks(name), WithoutLineBreaks(value));
    message.keep_alive(keep_alive);
  }

  void Respond(ApiResponse response, std::shared_ptr<http::file_body::value_type> file) {
    if (closed_) return;
    bool keep_alive = keep_alive_ && !state_.stopping;
    if (response.kind == ApiResponse::Kind::kEventStream) return StartEventStream(std::move(response));
    if (file) {
      auto message = std::make_shared<http::response<http::file_body>>();
      FillHeaders(*message, response, keep_alive);
      message->body() = std::move(*file);
      message->prepare_payload();
      return Write(std::move(message), keep_alive);
    }
    auto message = std::make_shared<http::response<http::string_body>>();
    FillHeaders(*message, response, keep_alive);
    message->body() = std::move(response.body);
    message->prepare_payload();
    Write(std::move(message), keep_alive);
  }

  template <class Message>
  void Write(std::shared_ptr<Message> message, bool keep_alive) {
    phase_ = Phase::kWriting;
    stream_.expires_after(state_.options.write_timeout);
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, keep_alive](beast::error_code ec, std::size_t) {
                        self->OnWrite(ec, keep_alive);
                      });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    if (closed_) return;
    if (ec) return Close();
    if (!keep_alive || state_.stopping) return GracefulClose();
    DoRead();
  }

  // An error found by the server itself (not the router): answer with a
  // problem and end the connection.
  void SendErrorAndClose(unsigned status, std::string_view code, std::string detail, const std::string& method) {
    std::string request_id = RequestIdFor("");
    ApiResponse response = Problem(status, code, std::move(detail));
    StampProblemRequestId(response, request_id);
    response.headers.emplace_back("X-Request-Id", request_id);
    if (state_.request_metrics && !method.empty())
      state_.request_metrics->Record("", method, status, Clock::duration::zero());
    keep_alive_ = false;
    auto message = std::make_shared<http::response<http::string_body>>();
    FillHeaders(*message, response, false);
    message->body() = std::move(response.body);
    message->prepare_payload();
    Write(std::move(message), false);
  }

  // Half-close, then drain what the client still sends for a little while,
  // so that it reads our response rather than a reset.
  void GracefulClose() {
    if (closed_) return;
    phase_ = Phase::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    linger_buffer_.resize(kLingerChunk);
    if (state_.stopping)
      stream_.expires_after(kStopLingerTime);
    else
      stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(linger_buffer_), [self = shared_from_this()](beast::error_code ec,
                                                                                     std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes || self->closed_) return self->Close();
      self->Drain();
    });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // --- Server-Sent Events ---------------------------------------------------

  void StartEventStream(ApiResponse response) {
    phase_ = Phase::kStreaming;
    std::string header = fmt::format("HTTP/1.1 {} OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                                     "Connection: close\r\nX-Accel-Buffering: no\r\n",
                                     response.status);
    for (const auto& [name, value] : response.headers)
      header += WithoutLineBreaks(name) + ": " + WithoutLineBreaks(value) + "\r\n";
    header += "\r\n";
    asio::post(*state_.workers, [self = shared_from_this(), header = std::move(header),
                                 producer = std::move(response.event_producer)]() mutable {
      self->RunProducer(header, producer);
    });
  }

  // On a worker thread.
  void RunProducer(const std::string& header, const std::function<void(EventStreamWriter&)>& producer) {
    auto self = shared_from_this();
    EventStreamWriter writer([self](std::string_view chunk) { return self->WriteChunkBlocking(chunk); },
                             [self] { return !self->state_.stopping && !self->closed_; });
    if (WriteChunkBlocking(header) && producer) {
      try {
        producer(writer);
      } catch (const std::exception& e) {
        base::log::Error("api: event stream producer threw", {{"what", e.what()}});
      } catch (...) {
        base::log::Error("api: event stream producer threw a non-exception");
      }
    }
    asio::post(stream_.get_executor(), [self] { self->GracefulClose(); });
  }

  // On a worker thread: writes on the strand and waits for the result.
  bool WriteChunkBlocking(std::string_view chunk) {
    if (closed_) return false;
    auto data = std::make_shared<std::string>(chunk);
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> result = done->get_future();
    asio::post(stream_.get_executor(), [self = shared_from_this(), data, done] {
      if (self->closed_) return done->set_value(false);
      self->stream_.expires_after(self->state_.options.write_timeout);
      asio::async_write(self->stream_, asio::buffer(*data), [self, data, done](beast::error_code ec, std::size_t) {
        if (ec) self->Close();
        done->set_value(!ec);
      });
    });
    // The stream's own timeout ends the write; the extra second covers an
    // io_context that has already stopped.
    if (result.wait_for(state_.options.write_timeout + std::chrono::seconds(1)) != std::future_status::ready)
      return false;
    return result.get();
  }

  beast::tcp_stream stream_;
  HttpServer::State& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kReading;
  bool keep_alive_ = false;
  std::atomic<bool> closed_{false};  // read by event-stream producers on worker threads
  std::vector<char> linger_buffer_;
  std::size_t lingered_ = 0;
};

void HttpServer::State::DoAccept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::State::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping || !acceptor.is_open()) return;
  if (ec) {
    // E.g. out of file descriptors: wait a little instead of spinning.
    base::log::Warn("api: accept failed", {{"error", ec.message()}});
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping) DoAccept();
    });
    return;
  }
  bool busy = SessionCount() >= options.max_connections;
  std::make_shared<Session>(std::move(socket), *this)->Run(busy);
  DoAccept();
}

HttpServer::HttpServer(HttpServerOptions options, const Router& router, MetricsRegistry* metrics)
    : state_(std::make_unique<State>(std::move(options), router, metrics)) {}

HttpServer::~HttpServer() { Stop(); }

std::uint16_t HttpServer::port() const { return state_->port; }

base::Result<void> HttpServer::Start() {
  State& s = *state_;
  if (s.started) return base::Fail(base::ErrorCode::kFailedPrecondition, "the HTTP server is already started");
  if (s.options.io_threads < 1 || s.options.worker_threads < 1)
    return base::Fail(base::ErrorCode::kInvalidArgument, "io_threads and worker_threads must be at least 1");
  beast::error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("bad listen address '{}'", s.options.address));
  tcp::endpoint endpoint(address, s.options.port);
  std::string where = fmt::format("{}:{}", s.options.address, s.options.port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return base::Fail(base::ErrorCode::kUnavailable, fmt::format("cannot listen on {}: {}", where, ec.message()));
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  s.started = true;
  s.workers = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(s.options.worker_threads));
  s.work.emplace(s.io.get_executor());
  asio::post(s.acceptor.get_executor(), [&s] { s.DoAccept(); });
  for (int i = 0; i < s.options.io_threads; ++i) {
    s.io_threads.emplace_back([&s] {
      while (true) {
        try {
          s.io.run();
          return;
        } catch (const std::exception& e) {  // a bug: completions report error codes
          base::log::Error("api: exception escaped the io loop", {{"what", e.what()}});
        }
      }
    });
  }
  base::log::Info("api: listening", {{"address", s.options.address}, {"port", s.port}});
  return {};
}

void HttpServer::Stop() {
  State& s = *state_;
  if (!s.started || s.stopping.exchange(true)) return;
  asio::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  for (auto& session : s.LiveSessions()) session->OnServerStop();
  s.WaitForNoSessions(s.options.shutdown_grace);
  if (s.SessionCount() > 0) {
    base::log::Warn("api: closing connections still open after the shutdown grace",
                    {{"connections", s.SessionCount()}});
    for (auto& session : s.LiveSessions()) session->ForceClose();
    s.WaitForNoSessions(kForcedCloseWait);
  }
  s.workers->join();  // handlers and producers finish (they see stopping)
  s.work.reset();
  s.io.stop();
  for (auto& thread : s.io_threads) thread.join();
  s.io_threads.clear();
  base::log::Info("api: stopped", {{"port", s.port}});
}

}  // namespace furrsight::api
