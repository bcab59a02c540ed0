#include "orchestrator/jobs/job_types.hpp"

#include "orchestrator/jobs/export_payload.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace furrsight::orchestrator::jobs {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

constexpr JobTypeSpec kTypes[] = {
    {"SCRAPE_URL", "crawl seed pages and/or search queries: {urls: [url], queries: [text], max_depth, max_pages, "
                   "max_images} (urls or queries required)"},
    {"PROCESS_IMAGE_PAIR", "pair the images of crawled pages: {crawl_job_id | page_urls: [url]}"},
    {"BATCH_INFERENCE", "analyse pairs with the vision-language model: {status, limit, model, prompt_version, pair_ids, "
                        "reanalyse} (all optional)"},
    {"GENERATE_QUERIES", "ask the language model for search queries: {topic (required), count, start_scrape, "
                         "max_depth, max_pages, max_images}"},
    {"VALIDATE_IMAGES", "check crawled images: {crawl_job_id (required), validation_rules: {...}}"},
    {"EXPORT_DATASET", "export the curated dataset: {format: zip|tar|csv|jsonl|webdataset|imagefolder, filters: {...}}"},
    {"NOOP", "does nothing, for tests, benchmarks and health checks: {sleep_ms, sleep_attempts, fail_attempts, fail_final, "
             "children, progress_steps, concurrency_key, result} (all optional)"},
};

base::Result<void> Expect(const json::object& p, std::string_view key, json::kind kind, bool required,
                          std::string_view job_type) {
  const json::value* v = p.if_contains(key);
  if (v == nullptr) {
    if (required) return Fail(ErrorCode::kInvalidArgument, fmt::format("{} needs payload.{}", job_type, key));
    return {};
  }
  bool ok = v->kind() == kind || (kind == json::kind::int64 && (v->is_uint64() || v->is_int64()));
  if (!ok)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{}: payload.{} must be {}", job_type, key, json::to_string(kind)));
  return {};
}

base::Result<void> NonEmptyStrings(const json::object& p, std::string_view key, std::string_view job_type) {
  const json::value* v = p.if_contains(key);
  if (v == nullptr) return {};
  for (const auto& item : v->as_array())
    if (!item.is_string() || item.as_string().empty())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: payload.{} must hold non-empty strings", job_type, key));
  return {};
}

}  // namespace

std::span<const JobTypeSpec> JobTypes() { return kTypes; }

const JobTypeSpec* FindJobType(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return &t;
  return nullptr;
}

base::Result<void> ValidatePayload(std::string_view type, const json::object& p) {
  if (FindJobType(type) == nullptr) {
    std::string known;
    for (const auto& t : kTypes) known += (known.empty() ? "" : ", ") + std::string(t.name);
    return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown job type '{}'; known: {}", type, known));
  }
  auto all = [](std::initializer_list<base::Result<void>> checks) -> base::Result<void> {
    for (const auto& c : checks)
      if (!c) return c;
    return {};
  };
  using json::kind;
  if (type == "SCRAPE_URL") {
    if (auto ok = all({Expect(p, "urls", kind::array, false, type), Expect(p, "queries", kind::array, false, type),
                       Expect(p, "max_depth", kind::int64, false, type), Expect(p, "max_pages", kind::int64, false, type),
                       Expect(p, "max_images", kind::int64, false, type)});
        !ok)
      return ok;
    auto empty = [&](std::string_view key) { return !p.contains(key) || p.at(key).as_array().empty(); };
    if (empty("urls") && empty("queries"))
      return Fail(ErrorCode::kInvalidArgument, "SCRAPE_URL needs payload.urls or payload.queries (at least one of them not empty)");
    if (auto ok = NonEmptyStrings(p, "urls", type); !ok) return ok;
    return NonEmptyStrings(p, "queries", type);
  }
  if (type == "PROCESS_IMAGE_PAIR") {
    if (auto ok = all({Expect(p, "crawl_job_id", kind::string, false, type),
                       Expect(p, "page_urls", kind::array, false, type)});
        !ok)
      return ok;
    if (!p.contains("crawl_job_id") && !p.contains("page_urls"))
      return Fail(ErrorCode::kInvalidArgument, "PROCESS_IMAGE_PAIR needs payload.crawl_job_id or payload.page_urls");
    return NonEmptyStrings(p, "page_urls", type);
  }
  if (type == "BATCH_INFERENCE") {
    if (auto ok = all({Expect(p, "status", kind::string, false, type), Expect(p, "limit", kind::int64, false, type),
                       Expect(p, "model", kind::string, false, type),
                       Expect(p, "prompt_version", kind::string, false, type),
                       Expect(p, "pair_ids", kind::array, false, type), Expect(p, "reanalyse", kind::bool_, false, type)});
        !ok)
      return ok;
    return NonEmptyStrings(p, "pair_ids", type);
  }
  if (type == "GENERATE_QUERIES")
    return all({Expect(p, "topic", kind::string, true, type), Expect(p, "count", kind::int64, false, type),
                Expect(p, "start_scrape", kind::bool_, false, type), Expect(p, "max_depth", kind::int64, false, type),
                Expect(p, "max_pages", kind::int64, false, type), Expect(p, "max_images", kind::int64, false, type)});
  if (type == "VALIDATE_IMAGES")
    return all({Expect(p, "crawl_job_id", kind::string, true, type),
                Expect(p, "validation_rules", kind::object, false, type)});
  if (type == "NOOP") {
    if (auto ok = all({Expect(p, "sleep_ms", kind::int64, false, type), Expect(p, "sleep_attempts", kind::int64, false, type),
                       Expect(p, "fail_attempts", kind::int64, false, type),
                       Expect(p, "fail_final", kind::bool_, false, type), Expect(p, "children", kind::int64, false, type),
                       Expect(p, "progress_steps", kind::int64, false, type),
                       Expect(p, "concurrency_key", kind::string, false, type),
                       Expect(p, "result", kind::object, false, type)});
        !ok)
      return ok;
    for (const char* key : {"sleep_ms", "sleep_attempts", "fail_attempts", "children", "progress_steps"})
      if (const auto* v = p.if_contains(key); v != nullptr && (v->to_number<double>() < 0 || v->to_number<double>() > 1e7))
        return Fail(ErrorCode::kInvalidArgument, fmt::format("NOOP: payload.{} must be between 0 and 10000000", key));
    return {};
  }
  // EXPORT_DATASET
  auto parsed = ParseExportPayload(p);
  if (!parsed) return std::unexpected(parsed.error());
  return {};
}

std::string ConcurrencyKey(std::string_view type, const json::object& p) {
  if (const auto* key = p.if_contains("concurrency_key"); key != nullptr && key->is_string())
    return std::string(key->as_string());
  if (type == "SCRAPE_URL") {
    const auto* urls = p.if_contains("urls");
    if (urls == nullptr || !urls->is_array() || urls->as_array().empty() || !urls->as_array()[0].is_string())
      return "search";
    std::string_view url = urls->as_array()[0].as_string();
    size_t start = url.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    std::string host(url.substr(start, url.find_first_of("/?#", start) - start));
    if (size_t at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
    return host;
  }
  return "";
}

}  // namespace furrsight::orchestrator::jobs
