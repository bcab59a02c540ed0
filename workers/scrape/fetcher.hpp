// HttpFetcher: the crawler's one door to the web, as a small interface
// (STYLE.md: everything that touches the outside world sits behind one).
// Asynchronous and poll-driven: Submit() queues requests, Wait() runs
// transfers and hands back the ones that finished. Everything a fetch must
// respect — SSRF guard on every hop, politeness per host, timeouts, size caps,
// content sniffing, X-Robots-Tag on images — is the implementation's job
// (CurlFetcher), so a FetchResult without a failure is safe to use.
// Implementations are thread-compatible: one thread drives a fetcher.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workers/scrape/content_sniff.hpp"
#include "workers/scrape/failure.hpp"
#include "workers/scrape/url.hpp"

namespace furrsight::workers {

enum class FetchKind {
  kPage,    // accepted when HTML (header or bytes) or an image (bytes); else not_html
  kImage,   // accepted only when the first bytes are an image format; X-Robots-Tag noai/noimageai refused
  kRobots,  // anything; a body over the cap is cut, not refused
  kRaw,     // anything (search APIs and the like)
};

// What to do with a redirect to `next` (the fetcher has already checked the
// scheme and the redirect count; the SSRF guard runs when it connects).
enum class HopAction {
  kFollow,
  kRefuse,    // fail the fetch with `failure`
  kHandOver,  // stop here: the result carries `next` as final_url and handed_over
};

struct HopVerdict {
  HopAction action = HopAction::kFollow;
  FailureClass failure = FailureClass::kOther;
  std::string detail;
};

struct FetchRequest {
  std::uint64_t id = 0;  // the caller's tag, returned in the result
  Url url;
  FetchKind kind = FetchKind::kPage;
  std::size_t max_bytes = 0;  // 0: the fetcher's default for the kind
  int max_redirects = -1;     // -1: the fetcher's default
  // Asked before each redirect is followed; empty: follow.
  std::function<HopVerdict(const Url& next)> on_redirect;
};

struct FetchResult {
  std::uint64_t id = 0;
  Url url;        // as requested
  Url final_url;  // the last URL requested (or, when handed_over, the next one)
  int redirects = 0;
  int status = 0;  // of the last response; 0 when there was none
  std::string content_type;                // as served
  std::vector<std::string> x_robots_tags;  // every X-Robots-Tag value of the last response
  std::string body;                        // empty on failure
  std::size_t bytes_received = 0;          // body bytes seen on the last hop, kept or not
  bool truncated = false;                  // kRobots: the body was cut at the cap
  ContentFormat format = ContentFormat::kUnknown;  // sniffed from the body
  std::string remote_ip;                   // the address connected to
  std::optional<FailureClass> failure;
  std::string detail;         // what went wrong, for logs and failure samples
  bool handed_over = false;   // see HopAction::kHandOver
  int retries = 0;            // after 429/503 with Retry-After

  bool ok() const { return !failure.has_value() && !handed_over; }
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  virtual void Submit(FetchRequest request) = 0;
  // Runs transfers until at least one fetch finishes or `max_wait` passes;
  // returns the finished ones (maybe none).
  virtual std::vector<FetchResult> Wait(std::chrono::milliseconds max_wait) = 0;
  // Submitted and not yet returned by Wait.
  virtual std::size_t Outstanding() const = 0;
  // A longer minimum delay between requests to `host` (robots.txt crawl-delay).
  virtual void SetHostDelay(std::string_view host, std::chrono::milliseconds delay) = 0;
  // Drops every queued and running fetch; none of them is returned.
  virtual void CancelAll() = 0;
};

}  // namespace furrsight::workers
