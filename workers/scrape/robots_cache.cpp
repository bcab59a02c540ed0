#include "workers/scrape/robots_cache.hpp"

#include <fmt/format.h>

namespace furrsight::workers {

RobotsEntry RobotsEntryFromFetch(const FetchResult& result) {
  RobotsEntry entry;
  entry.fetched_at = std::chrono::steady_clock::now();
  if (result.ok()) {
    entry.robots = RobotsTxt::Parse(result.body);
    return entry;
  }
  if (!result.failure || *result.failure == FailureClass::kRedirects) return entry;  // allow all
  if (*result.failure == FailureClass::kHttp4xx && result.status != 429) return entry;
  entry.robots = RobotsTxt::DisallowAll();
  if (*result.failure == FailureClass::kHttp4xx || *result.failure == FailureClass::kHttp5xx) {
    entry.detail = fmt::format("robots.txt answered {}", result.status);
  } else {
    entry.unreachable = result.failure;
    entry.detail = fmt::format("robots.txt unreachable: {}", result.detail);
  }
  return entry;
}

RobotsCache::RobotsCache(std::chrono::seconds ttl, std::size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

std::shared_ptr<const RobotsEntry> RobotsCache::Lookup(const std::string& origin) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(origin);
  if (it == entries_.end()) return nullptr;
  if (std::chrono::steady_clock::now() - it->second->fetched_at > ttl_) return nullptr;
  return it->second;
}

void RobotsCache::Store(const std::string& origin, RobotsEntry entry) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_entries_) {
    auto now = std::chrono::steady_clock::now();
    std::erase_if(entries_, [&](const auto& item) { return now - item.second->fetched_at > ttl_; });
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_[origin] = std::make_shared<const RobotsEntry>(std::move(entry));
}

}  // namespace furrsight::workers
