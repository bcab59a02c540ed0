// The sample web site: a grooming salon's site generated from a seed, with
// the ground truth of everything on it (docs/sample-site.md). GenerateSite
// draws every page and image up front (in parallel, but each image from its
// own seed, so the bytes are the same on every run and every thread count);
// the server (sample_site_server.hpp) only looks resources up.
//
// A Site is a plain value owned by its caller (the server takes it by move).
// Once built nothing changes it: read it from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/base/error.hpp"
#include "workers/sample_site/ground_truth.hpp"

namespace furrsight::workers::sample_site {

inline constexpr int kDefaultPages = 60;
inline constexpr int kMinPages = 22;  // the fixed pages and one page of each content kind
inline constexpr int kMaxPages = 5000;
inline constexpr int kMaxFlatImages = 200000;
inline constexpr int kBasePhotoWidth = 480;  // at scale 1
inline constexpr int kBasePhotoHeight = 360;
inline constexpr std::uint64_t kDefaultHugeBytes = 24ULL << 20;  // above the crawler's 20 MiB image cap

struct SiteOptions {
  std::uint32_t seed = 1;
  int pages = kDefaultPages;  // HTML pages in all (kMinPages to kMaxPages)
  double scale = 1.0;         // photo side = 480x360 * scale (0.25 to 8)
  int flat_images = 0;        // > 0: instead of the salon, "/" lists this many small distinct images
  int jpeg_quality = 88;
  std::chrono::milliseconds slow_delay{1000};  // before the answer of the "slow" pages
  int retry_after_seconds = 1;                 // the Retry-After of the first-time 429
  std::uint64_t huge_bytes = kDefaultHugeBytes;
  int threads = 0;  // for drawing the images; 0: one per core. The bytes do not depend on it.
};

// One thing the site answers at a path.
struct Resource {
  int status = 200;
  std::string content_type;
  std::shared_ptr<const std::string> body;  // shared: exact duplicates hold the same bytes
  std::vector<std::pair<std::string, std::string>> headers;  // Location, X-Robots-Tag, ...
  std::uint64_t filler_bytes = 0;  // generated body bytes sent after `body` (huge responses, never held in memory)
  bool chunked = false;            // no Content-Length: the size is known only when the body ends
  bool slow = false;               // answered after SiteOptions::slow_delay
  bool rate_limited_first = false;  // the first request gets 429 + Retry-After

  std::uint64_t TotalBytes() const { return (body ? body->size() : 0) + filler_bytes; }
};

struct Site {
  SiteOptions options;
  std::map<std::string, Resource, std::less<>> resources;  // by path ("/gallery/x.html")
  GroundTruth truth;
  std::string robots_txt;

  const Resource* Find(std::string_view path) const;
};

// kInvalidArgument for options out of range; kInternal if OpenCV fails (a bug).
base::Result<Site> GenerateSite(const SiteOptions& options);

}  // namespace furrsight::workers::sample_site
