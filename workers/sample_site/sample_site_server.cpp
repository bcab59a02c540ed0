#include "workers/sample_site/sample_site_server.hpp"

#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "workers/sample_site/site_handler.hpp"

namespace furrsight::workers::sample_site {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using base::ErrorCode;
using base::Fail;
using base::Result;

constexpr std::size_t kPieceBytes = 64 * 1024;  // filler is written in pieces of this size
constexpr std::string_view kServerName = "furrsight-sample-site";

struct Shared {
  SiteHandler& handler;
  AccessLog& log;
  const ServerOptions& options;
  std::chrono::steady_clock::time_point started;
};

// One connection: read a request, ask the handler, wait its delay, write the reply, again while keep-alive.
// Every completion runs on the connection's strand; errors end the connection, never the server.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Shared& shared)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), shared_(shared) {}

  void Run() {
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(shared_.options.max_request_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_request_bytes));
    stream_.expires_after(shared_.options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec) return Close();
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    SiteRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.host = std::string(req[http::field::host]);
    beast::error_code ignored;
    const auto remote = stream_.socket().remote_endpoint(ignored);
    request.from_loopback = !ignored && remote.address().is_loopback();
    reply_ = shared_.handler.Handle(request);
    if (reply_.record) {
      AccessLogEntry entry;
      entry.method = request.method;
      entry.target = request.target;
      entry.path = TargetPath(request.target);
      entry.status = reply_.status;
      entry.time_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - shared_.started).count();
      entry.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      entry.user_agent = std::string(req[http::field::user_agent]);
      entry.host = request.host;
      shared_.log.Record(std::move(entry));
    }
    if (reply_.delay.count() > 0) {
      timer_.expires_after(reply_.delay);
      timer_.async_wait(beast::bind_front_handler(&Session::OnDelay, shared_from_this()));
      return;
    }
    WriteHeader();
  }

  void OnDelay(beast::error_code ec) {
    if (ec) return Close();
    WriteHeader();
  }

  void WriteHeader() {
    response_.emplace();
    auto& res = *response_;
    res.version(11);
    res.result(static_cast<unsigned>(reply_.status));
    res.set(http::field::server, kServerName);
    if (!reply_.content_type.empty()) res.set(http::field::content_type, reply_.content_type);
    for (const auto& [name, value] : reply_.headers) res.set(name, value);
    res.keep_alive(keep_alive_);
    if (reply_.chunked && !reply_.head) res.chunked(true);
    else res.content_length(reply_.TotalBytes());
    serializer_.emplace(res);
    sent_ = 0;
    if (!reply_.head) return WriteBody();  // the header goes out with the first piece
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    stream_.expires_after(shared_.options.write_timeout);
    http::async_write_header(stream_, *serializer_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return Close();
    Done();
  }

  // The next piece: the body held in memory, then the filler, then the end.
  void WriteBody() {
    auto& body = response_->body();
    const std::uint64_t prefix = reply_.body ? reply_.body->size() : 0;
    const std::uint64_t total = reply_.TotalBytes();
    if (sent_ < prefix) {
      // buffer_body takes a void*; the serializer only reads it.
      body.data = const_cast<char*>(reply_.body->data() + sent_);
      body.size = static_cast<std::size_t>(prefix - sent_);
    } else if (sent_ < total) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kPieceBytes, total - sent_));
      for (std::size_t i = 0; i < n; ++i) piece_[i] = FillerByte(sent_ - prefix + i);
      body.data = piece_.data();
      body.size = n;
    } else {
      body.data = nullptr;
      body.size = 0;
    }
    sent_ += body.size;
    body.more = sent_ < total;
    stream_.expires_after(shared_.options.write_timeout);
    http::async_write(stream_, *serializer_, beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, std::size_t) {
    if (ec == http::error::need_buffer) return WriteBody();
    if (ec) return Close();
    if (!serializer_->is_done()) return WriteBody();
    Done();
  }

  void Done() {
    serializer_.reset();
    response_.reset();
    reply_ = Reply{};
    if (!keep_alive_) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  net::steady_timer timer_;
  const Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::buffer_body>> response_;
  std::optional<http::response_serializer<http::buffer_body>> serializer_;
  Reply reply_;
  bool keep_alive_ = false;
  std::uint64_t sent_ = 0;
  std::array<char, kPieceBytes> piece_{};
};

}  // namespace

struct SampleSiteServer::Impl {
  Impl(Site s, const ServerOptions& o)
      : site(std::move(s)),
        options(o),
        io(std::max(1, o.threads)),
        acceptor(net::make_strand(io)) {}

  void Accept() {
    acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);  // header and body pieces are separate writes
        std::make_shared<Session>(std::move(socket), *shared)->Run();
      }
      Accept();
    });
  }

  // Declared in this order so that the site, log and handler outlive the io_context (and so every session).
  Site site;
  ServerOptions options;
  AccessLog log;
  std::optional<SiteHandler> handler;  // made once the address is known (its default base URL)
  std::optional<Shared> shared;
  net::io_context io;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::string base_url;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
};

SampleSiteServer::SampleSiteServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SampleSiteServer::~SampleSiteServer() { Stop(); }

Result<std::unique_ptr<SampleSiteServer>> SampleSiteServer::Start(Site site, const ServerOptions& options) {
  if (options.threads < 1 || options.threads > 256)
    return Fail(ErrorCode::kInvalidArgument, "threads must be from 1 to 256");
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, fmt::format("not an IP address: '{}'", options.address));
  auto impl = std::make_unique<Impl>(std::move(site), options);
  const tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen on {} port {}: {}", options.address, options.port, ec.message()));
  impl->port = impl->acceptor.local_endpoint().port();
  impl->base_url = address.is_v6() ? fmt::format("http://[{}]:{}", address.to_string(), impl->port)
                                   : fmt::format("http://{}:{}", address.to_string(), impl->port);
  impl->handler.emplace(impl->site, impl->log, impl->base_url);
  impl->shared.emplace(Shared{*impl->handler, impl->log, impl->options, std::chrono::steady_clock::now()});
  impl->Accept();
  for (int t = 0; t < options.threads; ++t) impl->threads.emplace_back([io = &impl->io] { io->run(); });
  return std::unique_ptr<SampleSiteServer>(new SampleSiteServer(std::move(impl)));
}

void SampleSiteServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->io.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);  // no thread runs the io_context any more
}

std::uint16_t SampleSiteServer::port() const { return impl_->port; }
std::string SampleSiteServer::base_url() const { return impl_->base_url; }
const Site& SampleSiteServer::site() const { return impl_->site; }
const GroundTruth& SampleSiteServer::ground_truth() const { return impl_->site.truth; }
boost::json::object SampleSiteServer::GroundTruthJson() const { return ToJson(impl_->site.truth, impl_->base_url); }
std::vector<AccessLogEntry> SampleSiteServer::AccessLogEntries() const { return impl_->log.Entries(); }
boost::json::object SampleSiteServer::AccessLogJson() const { return impl_->log.ToJson(); }
void SampleSiteServer::ClearAccessLog() { impl_->log.Clear(); }

Result<std::unique_ptr<SampleSiteServer>> StartSampleSite(const SiteOptions& site_options,
                                                          const ServerOptions& server_options) {
  auto site = GenerateSite(site_options);
  if (!site) return std::unexpected(site.error());
  return SampleSiteServer::Start(std::move(*site), server_options);
}

}  // namespace furrsight::workers::sample_site
