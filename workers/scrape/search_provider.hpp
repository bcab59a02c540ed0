// SearchProvider: turns a search query into URLs to crawl (small interface
// for the outside world). SearxngSearchProvider speaks the SearxNG JSON API:
//   GET {base_url}/search?q=<query>&format=json[&categories=..][&language=..][&pageno=N]
//   -> {"results": [{"url": page, "img_src": image, "title": ..., "engine": ...}, ...]}
// (the instance must list `json` under search.formats in its settings.yml).
// The search service is configured by the operator and trusted: its address
// is not judged by the crawler's SSRF guard (it often runs on a private
// network). Blocking; thread-compatible (one call at a time per provider).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::workers {

struct SearchResult {
  std::string url;        // the page
  std::string image_url;  // img_src, for image results; may be empty
  std::string title;
  std::string engine;
};

class SearchProvider {
 public:
  virtual ~SearchProvider() = default;
  virtual base::Result<std::vector<SearchResult>> Search(std::string_view query) = 0;
};

struct SearxngOptions {
  std::string base_url;                // e.g. "http://searxng:8080"
  std::string categories = "images";   // SearxNG categories, comma-separated
  std::string language;                // empty: the instance's default
  int pages = 1;                       // result pages asked for per query
  std::size_t max_results = 50;        // per query, after merging pages
  std::chrono::milliseconds timeout{15'000};
  std::size_t max_bytes = 4 << 20;
  std::string user_agent;
};

class SearxngSearchProvider final : public SearchProvider {
 public:
  explicit SearxngSearchProvider(SearxngOptions options);
  base::Result<std::vector<SearchResult>> Search(std::string_view query) override;

 private:
  base::Result<std::string> Get(const std::string& url);
  SearxngOptions options_;
};

// Parses a SearxNG JSON answer; results without a url or img_src are skipped.
base::Result<std::vector<SearchResult>> ParseSearxngResponse(std::string_view body);

}  // namespace furrsight::workers
