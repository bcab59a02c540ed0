// HttpTestServer: a small, real HTTP/1.1 server on loopback for tests whose
// subject talks to a remote service (STYLE.md: replaced in tests by a local
// server speaking its real protocol): web sites for the crawler, a search
// engine's JSON API, a model server.
//
// Routes are pure functions from a request to a response, with no sockets in
// them. A response is scripted: status, headers, body; a delay before the
// status line; a slow drip of the body; filler bytes generated while they are
// sent (bodies larger than memory); no Content-Length (the body ends when the
// connection closes); redirects and Retry-After are just statuses and headers
// (see the builders). The server records every request and measures how many
// were being answered at once, overall and per Host header.
//
// One thread accepts; each connection is served by its own thread, requests
// in order (keep-alive). Each connection has an idle timeout and a request
// body limit. Thread-safe: routes may be added and observations read while it
// serves. Stop() (or the destructor) wakes every delay, closes every
// connection and joins the threads. Set-up failures throw (a test bug).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace furrsight::testing {

struct HttpTestRequest {
  std::string method;
  std::string target;  // as sent: "/a/b?c=1"
  std::string path;    // "/a/b"
  std::string query;   // "c=1"
  std::string host;    // the Host header, lower-case, without the port
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::chrono::steady_clock::time_point received_at;

  std::string Header(std::string_view name) const;      // "" when absent
  std::string QueryParam(std::string_view key) const;  // decoded; "" when absent
};

struct HttpTestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t filler_bytes = 0;                // this many more body bytes after `body`, generated
  std::chrono::milliseconds delay{0};          // before the status line
  std::size_t drip_bytes = 0;                  // > 0: the body goes out in pieces of this size...
  std::chrono::milliseconds drip_interval{0};  // ...each after this pause
  bool close_delimited = false;                // no Content-Length; the connection closes after the body

  HttpTestResponse& Header(std::string name, std::string value);

  static HttpTestResponse Html(std::string body);
  static HttpTestResponse Text(std::string body, std::string content_type = "text/plain");
  static HttpTestResponse Json(std::string body);
  static HttpTestResponse Bytes(std::string body, std::string content_type);
  static HttpTestResponse Status(int status, std::string body = "");
  static HttpTestResponse Redirect(std::string location, int status = 302);
};

using HttpTestHandler = std::function<HttpTestResponse(const HttpTestRequest&)>;

// One answered request, as the server saw it. Recorded just after the last
// byte was written: a client may hold the response before its exchange is
// listed (Requests() lists a request before it is answered; Stop() waits for
// every exchange).
struct HttpTestExchange {
  HttpTestRequest request;
  int status = 0;
  std::size_t body_bytes_sent = 0;  // body bytes the kernel accepted
  bool completed = false;           // the whole response was written
  std::chrono::steady_clock::time_point finished_at;
};

class HttpTestServer {
 public:
  // Listens on `address` and a free port.
  explicit HttpTestServer(std::string address = "127.0.0.1");
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>/path"; UrlFor names another host (one that the
  // client resolves to this server, e.g. with curl's --resolve).
  std::string Url(std::string_view path = "/") const;
  std::string UrlFor(std::string_view host, std::string_view path = "/") const;

  // Exact path (without the query) first, then the longest prefix, then the
  // fallback (404 unless set).
  void Route(std::string path, HttpTestHandler handler);
  void Route(std::string path, HttpTestResponse response);
  void RoutePrefix(std::string prefix, HttpTestHandler handler);
  void Fallback(HttpTestHandler handler);

  std::vector<HttpTestRequest> Requests() const;    // in arrival order
  std::vector<HttpTestExchange> Exchanges() const;  // in finishing order
  std::size_t RequestCount(std::string_view path) const;
  int MaxInFlight() const;
  int MaxInFlight(std::string_view host) const;
  void ResetObservations();

  void Stop();

 private:
  struct Connection;

  void AcceptLoop();
  void Serve(std::shared_ptr<Connection> connection);
  HttpTestResponse Dispatch(const HttpTestRequest& request) const;
  bool Send(Connection& connection, const HttpTestRequest& request, const HttpTestResponse& response,
            HttpTestExchange& exchange);
  bool SleepFor(std::chrono::milliseconds duration);  // false when stopped meanwhile

  struct Io;
  std::unique_ptr<Io> io_;
  std::uint16_t port_ = 0;
  std::string address_;
  std::thread acceptor_thread_;

  mutable std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool stopping_ = false;                                               // guarded by mu_
  std::map<std::string, HttpTestHandler, std::less<>> exact_;           // guarded by mu_
  std::vector<std::pair<std::string, HttpTestHandler>> prefixes_;       // guarded by mu_
  HttpTestHandler fallback_;                                            // guarded by mu_
  std::vector<std::shared_ptr<Connection>> connections_;                // guarded by mu_
  std::vector<std::thread> connection_threads_;                         // guarded by mu_
  std::vector<HttpTestRequest> requests_;                               // guarded by mu_
  std::vector<HttpTestExchange> exchanges_;                             // guarded by mu_
  int in_flight_ = 0;                                                   // guarded by mu_
  int max_in_flight_ = 0;                                               // guarded by mu_
  std::map<std::string, std::pair<int, int>, std::less<>> host_in_flight_;  // host -> {now, max}; guarded by mu_
};

}  // namespace furrsight::testing
