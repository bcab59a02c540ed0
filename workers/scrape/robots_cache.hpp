// RobotsCache: what each origin's robots.txt says, fetched once and kept for
// a TTL (RFC 9309 2.4: at most 24 hours), so every URL of an origin is judged
// without fetching robots.txt again. RobotsEntryFromFetch turns a fetch of
// /robots.txt into an entry, with RFC 9309 2.3.1's status rules.
// Thread-safe: one cache may serve several crawls of one worker process.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "workers/scrape/failure.hpp"
#include "workers/scrape/fetcher.hpp"
#include "workers/scrape/robots.hpp"

namespace furrsight::workers {

struct RobotsEntry {
  RobotsTxt robots;
  // The origin could not be reached for robots.txt (dns, connect, timeout,
  // tls, ssrf, ...): every URL of the origin fails with this class.
  std::optional<FailureClass> unreachable;
  std::string detail;  // e.g. "robots.txt answered 503"
  std::chrono::steady_clock::time_point fetched_at{};
};

//   2xx          the rules in the body
//   3xx          too many redirects: allow all ("unavailable")
//   4xx but 429  allow all ("unavailable")
//   429, 5xx     disallow all ("unreachable"): URLs fail as robots
//   no answer    disallow all: URLs fail with the fetch's class
RobotsEntry RobotsEntryFromFetch(const FetchResult& result);

class RobotsCache {
 public:
  explicit RobotsCache(std::chrono::seconds ttl = std::chrono::hours(24), std::size_t max_entries = 10'000);

  // The entry for "scheme://host[:port]", unless absent or older than the TTL.
  std::shared_ptr<const RobotsEntry> Lookup(const std::string& origin) const;
  void Store(const std::string& origin, RobotsEntry entry);

 private:
  const std::chrono::seconds ttl_;
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const RobotsEntry>> entries_;  // guarded by mu_
};

}  // namespace furrsight::workers
