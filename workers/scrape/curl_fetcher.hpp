// CurlFetcher: HttpFetcher on libcurl's multi interface, many transfers in
// flight on one thread.
//   - Politeness: at most max_per_host transfers per host at once and at least
//     the host's delay (min_host_delay, or a longer robots.txt crawl-delay given
//     through SetHostDelay) between two request starts to it; a 429 (or a 503
//     with Retry-After) holds back the whole host for Retry-After (or
//     default_retry_after), then the request is retried, at most max_retries
//     times and never for a wait above max_retry_after; an honest User-Agent.
//   - SSRF: only http and https; every address is judged by the AddressGuard
//     when the socket is opened (CURLOPT_OPENSOCKETFUNCTION: a refused address
//     is never connected to) and again on the connection actually used
//     (CURLOPT_PREREQFUNCTION, also for reused connections). Proxies from the
//     environment are ignored: the address judged is the server's.
//   - Redirects are followed here, one hop at a time (libcurl never follows
//     them): each hop is a new request through the same checks, its host's
//     politeness and FetchRequest::on_redirect.
//   - Limits: connect and total timeouts per hop; the size cap is enforced on
//     the declared Content-Length and while the bytes stream in (the write
//     callback aborts the transfer as soon as the cap is passed, so at most one
//     libcurl buffer, CURL_MAX_WRITE_SIZE, lands beyond it); compressed
//     bodies are capped on their decoded size.
//   - Content: images must sniff as an image format from their first bytes,
//     whatever the header says; pages must be HTML (header or bytes) or an image.
//     Images whose X-Robots-Tag says noai or noimageai are refused (noai).
// Thread-compatible: one thread calls Submit/Wait/... (libcurl's multi handle
// is not shared).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "workers/scrape/address_guard.hpp"
#include "workers/scrape/fetcher.hpp"

namespace furrsight::workers {

inline constexpr std::string_view kDefaultUserAgent =
    "FurrSightBot/0.1 (research crawler for a dog-grooming before/after image dataset; operator contact not "
    "configured)";

struct FetcherOptions {
  std::string user_agent = std::string(kDefaultUserAgent);
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{30'000};  // per hop
  int max_redirects = 5;
  int max_in_flight = 16;
  int max_per_host = 2;
  std::chrono::milliseconds min_host_delay{1'000};
  std::chrono::milliseconds default_retry_after{10'000};  // a 429 without Retry-After
  std::chrono::milliseconds max_retry_after{120'000};
  int max_retries = 2;
  std::size_t max_page_bytes = 8 << 20;
  std::size_t max_image_bytes = 20 << 20;
  std::size_t max_robots_bytes = 512 << 10;
  std::size_t max_raw_bytes = 8 << 20;
  AddressGuard guard;
  // curl --resolve entries, "host:port:address": names that resolve
  // elsewhere (tests, the local demo). The guard still judges the address.
  std::vector<std::string> resolve;
};

class CurlFetcher final : public HttpFetcher {
 public:
  explicit CurlFetcher(FetcherOptions options);
  ~CurlFetcher() override;
  CurlFetcher(const CurlFetcher&) = delete;
  CurlFetcher& operator=(const CurlFetcher&) = delete;

  void Submit(FetchRequest request) override;
  std::vector<FetchResult> Wait(std::chrono::milliseconds max_wait) override;
  std::size_t Outstanding() const override;
  void SetHostDelay(std::string_view host, std::chrono::milliseconds delay) override;
  void CancelAll() override;

  const FetcherOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrsight::workers
