// PixCrawler's resources, read-only from their read models (seeds 002-004):
// projects, crawl jobs, images, validation jobs, export jobs and the activity
// log, each a list (equality filters, pages by id) and one by id; and a
// project as a dataset with aggregated crawl-job statistics (PixCrawler's
// DatasetResponse / DatasetStats). They are written by events only: crawl,
// validation and export jobs are submitted through POST /api/v1/jobs.
#include <limits>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using base::ErrorCode;
using base::Fail;

enum class FilterType { kInteger, kText, kUuid };

struct Filter {
  std::string_view param;  // query parameter = column name
  FilterType type;
};

struct Resource {
  std::string_view path;   // under /api/v1
  std::string_view table;  // the read model
  std::string_view noun;   // for messages: "crawl job"
  std::vector<Filter> filters;
  const std::vector<std::string>* roles;
  // GET /api/v1/<path>/{id} too. Not for images: /api/v1/images/{sha256} is
  // the image itself (the rows are listed with ?sha256=, ?crawl_job_id=).
  bool one_by_id = true;
};

const std::vector<Resource>& Resources() {
  static const std::vector<Resource> kResources = {
      {"projects", "projects", "project", {{"user_id", FilterType::kUuid}, {"status", FilterType::kText}},
       &roles::kReaders},
      {"crawl-jobs", "crawl_jobs", "crawl job",
       {{"project_id", FilterType::kInteger}, {"status", FilterType::kText}, {"job_id", FilterType::kUuid}},
       &roles::kReaders},
      {"images", "images", "image",
       {{"crawl_job_id", FilterType::kInteger},
        {"validation_status", FilterType::kText},
        {"sha256", FilterType::kText},
        {"format", FilterType::kText}},
       &roles::kReaders,
       false},
      {"validation-jobs", "validation_jobs", "validation job",
       {{"crawl_job_id", FilterType::kInteger}, {"status", FilterType::kText}, {"job_id", FilterType::kUuid}},
       &roles::kReaders},
      {"export-jobs", "export_jobs", "export job",
       {{"crawl_job_id", FilterType::kInteger}, {"status", FilterType::kText}, {"user_id", FilterType::kUuid}},
       &roles::kReaders},
      {"activity-logs", "activity_logs", "activity log entry",
       {{"user_id", FilterType::kUuid}, {"resource_type", FilterType::kText}, {"resource_id", FilterType::kText},
        {"action", FilterType::kText}},
       &roles::kAuditors},
  };
  return kResources;
}

std::string_view CastOf(FilterType type) {
  switch (type) {
    case FilterType::kInteger: return "::integer";
    case FilterType::kUuid: return "::uuid";
    case FilterType::kText: return "";
  }
  return "";
}

// Table and column names come from Resources() (constants), never from the
// request; every value is a bind parameter.
std::string ListSql(const Resource& r) {
  std::string where;
  int n = 0;
  for (const auto& f : r.filters) {
    ++n;
    where += fmt::format("  AND (nullif(${0}, '') IS NULL OR t.{1} = nullif(${0}, ''){2})\n", n, f.param,
                         CastOf(f.type));
  }
  return fmt::format("SELECT row_to_json(t)::text, t.id FROM {} t\nWHERE t.id > ${}\n{}ORDER BY t.id LIMIT ${}",
                     r.table, n + 1, where, n + 2);
}

base::Result<void> CheckValue(const Filter& f, const std::string& value) {
  if (value.empty()) return {};
  if (f.type == FilterType::kUuid && !base::IsUuid(value))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} '{}' is not a UUID", f.param, value));
  if (f.type == FilterType::kInteger &&
      (value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} '{}' is not a whole number", f.param, value));
  if (value.size() > 200) return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is too long", f.param));
  return {};
}

base::Result<std::int64_t> IdParam(const ApiRequest& req, std::string_view noun) {
  const auto text = req.Param("id");
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string_view::npos)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' is not a {} id (a whole number)", text, noun));
  return std::stoll(std::string(text));
}

// ?cursor= of a list paged by id: the last id of the previous page (ids are
// PostgreSQL integers).
base::Result<std::optional<std::int64_t>> IdCursor(const ApiRequest& req) {
  auto cursor = IntParam(req, "cursor");
  if (!cursor) return cursor;
  if (*cursor && (**cursor < 0 || **cursor > std::numeric_limits<std::int32_t>::max()))
    return Fail(ErrorCode::kInvalidArgument,
                "cursor is not one this API gave out; pass next_cursor from the previous page unchanged");
  return cursor;
}

base::Result<ApiResponse> List(ApiServices& s, const ApiRequest& req, const Resource& r) {
  std::vector<std::string_view> allowed = {"limit", "cursor"};
  for (const auto& f : r.filters) allowed.push_back(f.param);
  if (auto ok = CheckQueryParams(req, allowed); !ok) return std::unexpected(ok.error());
  auto limit = LimitParam(req, 50, 500);
  if (!limit) return std::unexpected(limit.error());
  auto cursor = IdCursor(req);
  if (!cursor) return std::unexpected(cursor.error());
  std::vector<std::string> params;
  for (const auto& f : r.filters) {
    params.push_back(StringParam(req, f.param));
    if (auto ok = CheckValue(f, params.back()); !ok) return std::unexpected(ok.error());
  }
  params.push_back(std::to_string(cursor->value_or(0)));
  params.push_back(std::to_string(*limit + 1));
  const std::string sql = ListSql(r);
  return events::WithConnection(s.pool, fmt::format("listing {}s", r.noun),
                                [&](pqxx::connection& conn) -> base::Result<ApiResponse> {
                                  pqxx::read_transaction tx(conn);
                                  const auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
                                  json::array items;
                                  json::value next = nullptr;
                                  for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
                                    if (static_cast<int>(i) == *limit) {
                                      next = json::value(std::string(rows[i - 1][1].c_str()));
                                      break;
                                    }
                                    items.emplace_back(json::parse(rows[i][0].c_str()));
                                  }
                                  return JsonOk(json::object{{"items", std::move(items)},
                                                             {"next_cursor", std::move(next)}});
                                });
}

base::Result<ApiResponse> One(ApiServices& s, const ApiRequest& req, const Resource& r) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = IdParam(req, r.noun);
  if (!id) return std::unexpected(id.error());
  const std::string sql = fmt::format("SELECT row_to_json(t)::text FROM {} t WHERE t.id = $1", r.table);
  auto row = QueryJson(s.pool, fmt::format("reading a {}", r.noun), fmt::format("no {} {}", r.noun, *id), sql, *id);
  if (!row) return std::unexpected(row.error());
  return JsonOk(*row);
}

// A project as PixCrawler's DatasetResponse with DatasetStats.
inline constexpr std::string_view kDatasets = R"~(
SELECT coalesce(json_agg(d ORDER BY d.id), '[]')::text FROM (
  SELECT p.id, p.name, p.description, p.user_id, p.status, p.created_at, p.updated_at,
         json_build_object(
           'total_crawl_jobs', count(c.id),
           'active_crawl_jobs', count(c.id) FILTER (WHERE c.status IN ('pending', 'running')),
           'completed_crawl_jobs', count(c.id) FILTER (WHERE c.status = 'completed'),
           'failed_crawl_jobs', count(c.id) FILTER (WHERE c.status = 'failed'),
           'total_images', coalesce(sum(c.total_images), 0),
           'downloaded_images', coalesce(sum(c.downloaded_images), 0),
           'valid_images', coalesce(sum(c.valid_images), 0),
           'progress', coalesce(round(avg(c.progress)), 0),
           'last_crawl_at', max(c.updated_at)) AS stats
  FROM projects p LEFT JOIN crawl_jobs c ON c.project_id = p.id
  WHERE ($1 = 0 OR p.id = $1) AND p.id > $2
  GROUP BY p.id, p.name, p.description, p.user_id, p.status, p.created_at, p.updated_at
  ORDER BY p.id
  LIMIT $3) d)~";

base::Result<ApiResponse> Datasets(ApiServices& s, const ApiRequest& req, bool one) {
  static constexpr std::string_view kAllowed[] = {"limit", "cursor"};
  if (auto ok = CheckQueryParams(req, one ? std::span<const std::string_view>() : kAllowed); !ok)
    return std::unexpected(ok.error());
  std::int64_t id = 0;
  if (one) {
    auto parsed = IdParam(req, "dataset");
    if (!parsed) return std::unexpected(parsed.error());
    id = *parsed;
  }
  auto limit = LimitParam(req, 50, 500);
  auto cursor = IdCursor(req);
  if (!limit) return std::unexpected(limit.error());
  if (!cursor) return std::unexpected(cursor.error());
  auto rows = QueryJson(s.pool, "reading datasets", "", kDatasets, id, cursor->value_or(0), *limit + 1);
  if (!rows) return std::unexpected(rows.error());
  auto& items = rows->as_array();
  if (one) {
    if (items.empty()) return Fail(ErrorCode::kNotFound, fmt::format("no dataset (project) {}", id));
    return JsonOk(items.front());
  }
  json::value next = nullptr;
  if (static_cast<int>(items.size()) > *limit) {
    items.resize(static_cast<std::size_t>(*limit));
    next = json::value(std::to_string(items.back().as_object().at("id").to_number<std::int64_t>()));
  }
  return JsonOk(json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
}

}  // namespace

void AddDatasetRoutes(Router& router, ApiServices& s) {
  for (const auto& r : Resources()) {
    router.Add({http::verb::get, fmt::format("/api/v1/{}", r.path), *r.roles, false,
                fmt::format("List {}s (filters, pages by id)", r.noun),
                [&s, &r](const ApiRequest& req, const Principal&) { return List(s, req, r); }});
    if (!r.one_by_id) continue;
    router.Add({http::verb::get, fmt::format("/api/v1/{}/{{id}}", r.path), *r.roles, false,
                fmt::format("One {}", r.noun),
                [&s, &r](const ApiRequest& req, const Principal&) { return One(s, req, r); }});
  }
  router.Add({http::verb::get, "/api/v1/datasets", roles::kReaders, false,
              "Projects as datasets with aggregated crawl-job statistics",
              [&s](const ApiRequest& req, const Principal&) { return Datasets(s, req, false); }});
  router.Add({http::verb::get, "/api/v1/datasets/{id}", roles::kReaders, false,
              "One project as a dataset (DatasetResponse with DatasetStats)",
              [&s](const ApiRequest& req, const Principal&) { return Datasets(s, req, true); }});
}

}  // namespace furrsight::api
