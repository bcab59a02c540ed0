#include "orchestrator/jobs/export_payload.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/time.hpp"

namespace furrsight::orchestrator::jobs {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

base::Result<std::vector<std::string>> StringList(const json::object& o, std::string_view key, std::string_view what) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (v == nullptr) return out;
  if (v->is_string()) {
    out.emplace_back(v->as_string());
    return out;
  }
  if (!v->is_array()) return Fail(ErrorCode::kInvalidArgument, fmt::format("{}.{} must be a list of strings", what, key));
  for (const auto& item : v->as_array()) {
    if (!item.is_string() || item.as_string().empty())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{}.{} must be a list of non-empty strings", what, key));
    out.emplace_back(item.as_string());
  }
  return out;
}

}  // namespace

base::Result<ExportFilters> ParseFilters(const json::object* filters) {
  ExportFilters f;
  if (filters == nullptr) return f;
  static constexpr std::string_view kKnown[] = {"status", "breeds", "services", "from", "to", "project_id"};
  for (const auto& [key, value] : *filters)
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("filters.{} is not a filter (status, breeds, services, from, to, project_id)",
                              std::string_view(key)));
  auto statuses = StringList(*filters, "status", "filters");
  if (!statuses) return std::unexpected(statuses.error());
  if (filters->contains("status")) {
    for (auto& s : *statuses) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (s != "UNVERIFIED" && s != "VERIFIED" && s != "REJECTED")
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("filters.status '{}' is not UNVERIFIED, VERIFIED or REJECTED", s));
    }
    f.statuses = std::move(*statuses);
  }
  auto breeds = StringList(*filters, "breeds", "filters");
  if (!breeds) return std::unexpected(breeds.error());
  f.breeds = std::move(*breeds);
  auto services = StringList(*filters, "services", "filters");
  if (!services) return std::unexpected(services.error());
  f.services = std::move(*services);
  for (auto [key, field] : {std::pair{"from", &f.from_us}, std::pair{"to", &f.to_us}}) {
    if (const auto* v = filters->if_contains(key)) {
      std::optional<std::int64_t> us;
      if (v->is_string()) us = base::ParseIsoTimeUs(v->as_string());
      if (!us)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("filters.{} must be a time like 2026-11-22T10:00:00Z", key));
      *field = us;
    }
  }
  if (f.from_us && f.to_us && *f.from_us >= *f.to_us)
    return Fail(ErrorCode::kInvalidArgument, "filters.from must be before filters.to");
  if (const auto* v = filters->if_contains("project_id")) {
    if (!v->is_string()) return Fail(ErrorCode::kInvalidArgument, "filters.project_id must be a string");
    f.project_id = std::string(v->as_string());
  }
  return f;
}

json::object FiltersJson(const ExportFilters& f) {
  json::object o;
  json::array statuses, breeds, services;
  for (const auto& s : f.statuses) statuses.emplace_back(s);
  for (const auto& s : f.breeds) breeds.emplace_back(s);
  for (const auto& s : f.services) services.emplace_back(s);
  o["status"] = std::move(statuses);
  o["breeds"] = std::move(breeds);
  o["services"] = std::move(services);
  o["from_us"] = f.from_us ? json::value(*f.from_us) : json::value(nullptr);
  o["to_us"] = f.to_us ? json::value(*f.to_us) : json::value(nullptr);
  o["project_id"] = f.project_id;
  return o;
}

base::Result<SplitOptions> ParseSplitOptions(const json::object* splits) {
  SplitOptions o;
  if (splits == nullptr) return o;
  for (const auto& [key, value] : *splits) {
    if (key == "seed") {
      if (!value.is_string() && !value.is_number())
        return Fail(ErrorCode::kInvalidArgument, "splits.seed must be a string or a number");
      o.seed = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    } else if (key == "near_duplicate_distance") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > 32)
        return Fail(ErrorCode::kInvalidArgument, "splits.near_duplicate_distance must be an integer from 0 to 32");
      o.near_duplicate_distance = static_cast<int>(value.as_int64());
    } else if (key == "train" || key == "validation" || key == "test") {
      if (!value.is_number() || value.to_number<double>() < 0 || value.to_number<double>() > 1)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("splits.{} must be a fraction from 0 to 1", std::string_view(key)));
      (key == "train" ? o.train : key == "validation" ? o.validation : o.test) = value.to_number<double>();
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("splits.{} is not a split option (train, validation, test, seed, "
                              "near_duplicate_distance)",
                              std::string_view(key)));
    }
  }
  if (std::abs(o.train + o.validation + o.test - 1.0) > 1e-6)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("splits.train + validation + test must be 1 (they are {} + {} + {})", o.train,
                            o.validation, o.test));
  return o;
}

json::object SplitOptionsJson(const SplitOptions& o) {
  return {{"train", o.train},
          {"validation", o.validation},
          {"test", o.test},
          {"seed", o.seed},
          {"near_duplicate_distance", o.near_duplicate_distance}};
}

base::Result<std::optional<ResizeOptions>> ParseResizeOptions(const json::value* resize) {
  if (resize == nullptr || resize->is_null() || (resize->is_bool() && !resize->as_bool())) return std::nullopt;
  if (!resize->is_object()) return Fail(ErrorCode::kInvalidArgument, "resize must be an object {max_side, format, quality}");
  ResizeOptions r;
  for (const auto& [key, v] : resize->as_object()) {
    if (key == "max_side" && v.is_int64() && v.as_int64() >= 16 && v.as_int64() <= 8192) r.max_side = static_cast<int>(v.as_int64());
    else if (key == "quality" && v.is_int64() && v.as_int64() >= 1 && v.as_int64() <= 100) r.quality = static_cast<int>(v.as_int64());
    else if (key == "format" && v.is_string() && (v.as_string() == "jpeg" || v.as_string() == "png" || v.as_string() == "webp"))
      r.format = std::string(v.as_string());
    else
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("resize.{} is not valid (max_side 16-8192, quality 1-100, format jpeg|png|webp)",
                              std::string_view(key)));
  }
  return r;
}

base::Result<ExportPayload> ParseExportPayload(const json::object& p) {
  auto fail = [](const base::Error& e) { return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: " + e.message); };
  static constexpr std::string_view kKnown[] = {"format", "filters", "splits", "resize", "as_of", "shard_size",
                                                "expires_in_seconds", "crawl_job_id", "name", "export_options"};
  for (const auto& [key, value] : p)
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("EXPORT_DATASET: payload.{} is not an export option (format, filters, splits, resize, "
                              "as_of, shard_size, expires_in_seconds, crawl_job_id, name, export_options)",
                              std::string_view(key)));
  ExportPayload out;
  if (const auto* f = p.if_contains("format")) {
    if (!f->is_string() ||
        std::find(std::begin(kExportFormats), std::end(kExportFormats), f->as_string()) == std::end(kExportFormats))
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("EXPORT_DATASET: payload.format {} is not one of zip, tar, csv, jsonl, webdataset, "
                              "imagefolder",
                              json::serialize(*f)));
    out.format = std::string(f->as_string());
  }
  const auto* filters = p.if_contains("filters");
  if (filters != nullptr && !filters->is_object()) return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: payload.filters must be an object");
  auto parsed_filters = ParseFilters(filters != nullptr ? &filters->as_object() : nullptr);
  if (!parsed_filters) return fail(parsed_filters.error());
  out.filters = std::move(*parsed_filters);
  const auto* splits = p.if_contains("splits");
  if (splits != nullptr && !splits->is_object()) return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: payload.splits must be an object");
  auto parsed_splits = ParseSplitOptions(splits != nullptr ? &splits->as_object() : nullptr);
  if (!parsed_splits) return fail(parsed_splits.error());
  out.splits = std::move(*parsed_splits);
  auto resize = ParseResizeOptions(p.if_contains("resize"));
  if (!resize) return fail(resize.error());
  out.resize = std::move(*resize);
  if (const auto* a = p.if_contains("as_of")) {
    if (!a->is_string()) return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: payload.as_of must be a log position \"<tx>.<n>\"");
    auto position = events::ParsePosition(a->as_string(), "payload.as_of");
    if (!position) return fail(position.error());
    out.as_of = *position;
  }
  if (const auto* n = p.if_contains("shard_size")) {
    if (!n->is_int64() || n->as_int64() < 1 || n->as_int64() > 1'000'000)
      return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: payload.shard_size must be an integer from 1 to 1000000");
    out.shard_size = static_cast<int>(n->as_int64());
  }
  if (const auto* e = p.if_contains("expires_in_seconds")) {
    if (!e->is_int64() || e->as_int64() < 1 || e->as_int64() > kMaxExportLinkSeconds)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("EXPORT_DATASET: payload.expires_in_seconds must be an integer from 1 to {} (7 days, S3's limit)",
                              kMaxExportLinkSeconds));
    out.expires_in = std::chrono::seconds(e->as_int64());
  }
  if (const auto* c = p.if_contains("crawl_job_id")) {
    if (!c->is_string()) return Fail(ErrorCode::kInvalidArgument, "EXPORT_DATASET: payload.crawl_job_id must be a string");
    out.crawl_job_id = std::string(c->as_string());
  }
  return out;
}

}  // namespace furrsight::orchestrator::jobs
