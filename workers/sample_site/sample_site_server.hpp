// SampleSiteServer: serves a generated Site over HTTP/1.1 (Boost.Beast) on a
// loopback address: keep-alive, several threads, a delay for the slow pages,
// 429 + Retry-After the first time for the rate-limited page, and huge bodies
// streamed from generated filler (never held in memory). Every request is
// recorded in its AccessLog; GET /ground-truth.json and /access-log.json
// answer the ground truth and the log to loopback clients.
//
// Each connection has an idle timeout, a write timeout and a request size
// limit, and answers its requests one at a time (a bounded pipeline).
//
// Owns the Site, the handler and its threads. Thread-safe: every method may
// be called from any thread while it serves. Stop() (or the destructor)
// closes the listener and every connection and joins the threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "workers/sample_site/access_log.hpp"
#include "workers/sample_site/ground_truth.hpp"
#include "workers/sample_site/site_generator.hpp"

namespace furrsight::workers::sample_site {

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 0;             // 0: the system picks a free port (see port())
  int threads = 4;
  std::chrono::milliseconds idle_timeout{30000};   // between requests, and to read one
  std::chrono::milliseconds write_timeout{60000};  // per piece written
  std::size_t max_request_bytes = 64 * 1024;
};

class SampleSiteServer {
 public:
  // Binds and starts serving. kInvalidArgument for a bad address or options, kUnavailable when the port
  // cannot be bound.
  static base::Result<std::unique_ptr<SampleSiteServer>> Start(Site site, const ServerOptions& options = {});
  ~SampleSiteServer();
  SampleSiteServer(const SampleSiteServer&) = delete;
  SampleSiteServer& operator=(const SampleSiteServer&) = delete;

  void Stop();

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" (IPv6: "http://[::1]:PORT")
  const Site& site() const;
  const GroundTruth& ground_truth() const;
  boost::json::object GroundTruthJson() const;  // ToJson(ground_truth(), base_url())
  std::vector<AccessLogEntry> AccessLogEntries() const;
  boost::json::object AccessLogJson() const;
  void ClearAccessLog();

 private:
  struct Impl;
  explicit SampleSiteServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// GenerateSite(site_options), then Start.
base::Result<std::unique_ptr<SampleSiteServer>> StartSampleSite(const SiteOptions& site_options,
                                                                 const ServerOptions& server_options = {});

}  // namespace furrsight::workers::sample_site
