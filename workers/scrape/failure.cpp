#include "workers/scrape/failure.hpp"

namespace furrsight::workers {
namespace {

constexpr std::array<std::string_view, kFailureClassCount> kNames = {
    "dns",      "connect", "timeout", "tls",       "http_4xx", "http_5xx", "too_large", "not_image",
    "not_html", "robots",  "noai",    "ssrf",      "redirects", "bad_url", "search",    "other",
};

}  // namespace

std::string_view FailureClassName(FailureClass failure) { return kNames[static_cast<std::size_t>(failure)]; }

std::optional<FailureClass> ParseFailureClass(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<FailureClass>(i);
  return std::nullopt;
}

int FailureCounts::Total() const {
  int total = 0;
  for (int c : counts_) total += c;
  return total;
}

boost::json::object FailureCounts::ToJson() const {
  boost::json::object out;
  for (std::size_t i = 0; i < kNames.size(); ++i) out[kNames[i]] = counts_[i];
  return out;
}

}  // namespace furrsight::workers
