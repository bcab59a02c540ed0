#include "workers/sample_site/access_log.hpp"

#include <utility>

#include <boost/json/array.hpp>

namespace furrsight::workers::sample_site {

void AccessLog::Record(AccessLogEntry entry) {
  std::lock_guard lock(mutex_);
  entries_.push_back(std::move(entry));
}

std::vector<AccessLogEntry> AccessLog::Entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

void AccessLog::Clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

boost::json::object AccessLog::ToJson() const {
  const std::vector<AccessLogEntry> entries = Entries();
  boost::json::array out;
  out.reserve(entries.size());
  for (const AccessLogEntry& e : entries)
    out.push_back(boost::json::object{{"method", e.method},
                                      {"target", e.target},
                                      {"path", e.path},
                                      {"status", e.status},
                                      {"time_ms", e.time_ms},
                                      {"unix_ms", e.unix_ms},
                                      {"user_agent", e.user_agent},
                                      {"host", e.host}});
  return boost::json::object{{"count", entries.size()}, {"entries", std::move(out)}};
}

}  // namespace furrsight::workers::sample_site
