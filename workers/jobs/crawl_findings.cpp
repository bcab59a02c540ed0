#include "workers/jobs/crawl_findings.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

namespace furrsight::workers {
namespace {

inline constexpr std::string_view kFindings = R"~(
SELECT payload::text FROM events
WHERE payload->>'crawl_job_id' = $1 AND event_type = $2
  AND event_type IN ('PageCaptured', 'ImageDownloaded', 'PairCandidateFound')
ORDER BY global_position)~";

base::Result<std::vector<boost::json::object>> Payloads(events::EventStore& store, const std::string& crawl_job_id,
                                                         std::string_view type) {
  auto lease = store.pool().Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    std::vector<boost::json::object> out;
    for (const auto& row : tx.exec_params(std::string(kFindings), crawl_job_id, std::string(type)))
      out.push_back(boost::json::parse(row[0].as<std::string>()).as_object());
    return out;
  } catch (const std::exception& e) {
    lease->Discard();
    return base::Fail(base::ErrorCode::kUnavailable, fmt::format("reading what crawl {} found: {}", crawl_job_id, e.what()));
  }
}

std::string Str(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

base::Result<std::vector<CrawlImage>> LoadCrawlImages(events::EventStore& store, const std::string& crawl_job_id) {
  auto rows = Payloads(store, crawl_job_id, "ImageDownloaded");
  if (!rows) return std::unexpected(rows.error());
  std::vector<CrawlImage> out;
  for (const auto& p : *rows) {
    const auto* size = p.if_contains("file_size");  // int64 is JSON text in the payload
    std::int64_t bytes = 0;
    if (size != nullptr && size->is_string()) bytes = std::stoll(std::string(size->as_string()));
    else if (size != nullptr && size->is_number()) bytes = size->to_number<std::int64_t>();
    out.push_back({Str(p, "sha256"), Str(p, "url"), Str(p, "page_url"), Str(p, "derived_from_sha256"), bytes});
  }
  return out;
}

base::Result<std::vector<CrawlCandidate>> LoadCandidates(events::EventStore& store, const std::string& crawl_job_id) {
  auto rows = Payloads(store, crawl_job_id, "PairCandidateFound");
  if (!rows) return std::unexpected(rows.error());
  std::vector<CrawlCandidate> out;
  for (const auto& p : *rows) {
    const auto* score = p.if_contains("score");
    out.push_back({Str(p, "page_url"), Str(p, "before_image"), Str(p, "after_image"), Str(p, "before_sha256"),
                   Str(p, "after_sha256"), Str(p, "cue"), score != nullptr ? score->to_number<double>() : 0.0});
  }
  return out;
}

}  // namespace furrsight::workers
