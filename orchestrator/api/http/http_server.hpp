// HttpServer: the REST API's HTTP/1.1 server (Boost.Beast, asynchronous).
//
// Threads: `io_threads` run the sockets (accept, read, write) and never run
// handlers; `worker_threads` run Router::Handle, File opens and EventStream
// producers. A connection handles one request at a time (pipelined requests
// wait in its buffer and are answered in order) and is kept alive unless the
// client, an error or Stop() says otherwise.
//
// Limits per connection: read_timeout from the start of waiting for a request
// to its last body byte (so an idle keep-alive or half-open connection is
// closed after it); write_timeout per response (per chunk for event streams);
// body_limit (413 payload_too_large); a 16 KiB header limit (431
// header_too_large); unparsable HTTP gets 400 bad_request; past
// max_connections a new connection gets 503 unavailable. Each of those ends
// the connection.
//
// Stop(): stop accepting, close idle connections, let requests being handled
// finish and event-stream writers report closed (open() == false); after
// shutdown_grace whatever is left is closed. Handlers and producers must
// return in bounded time: Stop() waits for the worker threads.
//
// Start() and Stop() are called from one thread (not from a handler); the
// destructor stops. The Router (and MetricsRegistry, if given) must outlive
// the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "events/base/error.hpp"
#include "orchestrator/api/http/metrics.hpp"
#include "orchestrator/api/http/router.hpp"

namespace furrsight::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port (see HttpServer::port())
  int io_threads = 2;
  int worker_threads = 4;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::seconds read_timeout{30};  // header + body, including idle keep-alive
  std::chrono::seconds write_timeout{30};
  std::size_t max_connections = 1024;
  std::chrono::seconds shutdown_grace{10};
};

class HttpServer {
 public:
  // `metrics` may be null; if given, RequestMetrics are recorded on it.
  HttpServer(HttpServerOptions options, const Router& router, MetricsRegistry* metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then serves on the io threads. kUnavailable if the
  // address cannot be bound (e.g. the port is busy); kFailedPrecondition if
  // already started.
  base::Result<void> Start();
  // The bound port (the real one when options.port was 0); 0 before Start().
  std::uint16_t port() const;
  // Graceful stop (see above). Idempotent.
  void Stop();

 private:
  friend class Session;  // http_server.cpp: one connection
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace furrsight::api
