// AccessLog: every request the sample site answered, in the order the answers
// were decided, so a test can prove what a crawler did (and did not) request:
// no path under a robots.txt Disallow, no image of a noai page, the 429 page
// asked twice. The control endpoints (/ground-truth.json, /access-log.json)
// are not recorded.
//
// Thread-safe: Record, Entries, Clear and ToJson may be called from any thread
// (one mutex; entries are copied out).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace furrsight::workers::sample_site {

struct AccessLogEntry {
  std::string method;      // "GET"
  std::string target;      // as sent: "/gallery/x.html?a=1"
  std::string path;        // "/gallery/x.html"
  int status = 0;          // the status answered (429, 302, 200, ...)
  double time_ms = 0;      // since the server started (steady clock)
  std::int64_t unix_ms = 0;  // wall clock, for people reading the log
  std::string user_agent;
  std::string host;        // the Host header
};

class AccessLog {
 public:
  void Record(AccessLogEntry entry);
  std::vector<AccessLogEntry> Entries() const;
  void Clear();
  // {"count": N, "entries": [{"method", "target", "path", "status", "time_ms", "unix_ms", "user_agent", "host"}...]}
  boost::json::object ToJson() const;

 private:
  mutable std::mutex mutex_;
  std::vector<AccessLogEntry> entries_;  // guarded by mutex_
};

}  // namespace furrsight::workers::sample_site
