// /api/v1/jobs: submit (202 Accepted + Location), list with filters, one job
// with progress and counters, its history, cancel, retry. Submissions are
// checked against the job type's payload schema (JobService) and are
// idempotent by key (the Idempotency-Key header or the body's field).
#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "orchestrator/api/http/json_body.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
namespace jobs = orchestrator::jobs;
using base::ErrorCode;
using base::Fail;

// $1 status, $2 job_type, $3 project_id, $4 parent_job_id ('' = any),
// $5/$6 the cursor (created_at µs, id), $7 the page size + 1.
inline constexpr std::string_view kListJobs = R"~(
SELECT row_to_json(j)::text, (extract(epoch FROM j.created_at) * 1000000)::bigint, j.id::text
FROM jobs j
WHERE (nullif($1, '') IS NULL OR j.status = $1)
  AND (nullif($2, '') IS NULL OR j.job_type = $2)
  AND (nullif($3, '') IS NULL OR j.project_id = $3)
  AND (nullif($4, '') IS NULL OR j.parent_job_id = nullif($4, '')::uuid)
  AND (nullif($5, '') IS NULL OR (j.created_at, j.id) <
       ('epoch'::timestamptz + nullif($5, '')::bigint * interval '1 microsecond', nullif($6, '')::uuid))
ORDER BY j.created_at DESC, j.id DESC
LIMIT $7)~";

inline constexpr std::string_view kOneJob = R"~(SELECT row_to_json(j)::text FROM jobs j WHERE j.id = $1::uuid)~";

inline constexpr std::string_view kJobStatuses[] = {"PENDING",   "IN_PROGRESS", "WAITING_RETRY", "WAITING_CHILDREN",
                                                    "COMPLETED", "FAILED",      "CANCELLED"};

std::string JobUrl(const std::string& id) { return "/api/v1/jobs/" + id; }

base::Result<ApiResponse> SubmitJob(ApiServices& s, const ApiRequest& req, const Principal& who) {
  static constexpr std::string_view kFields[] = {"type",     "payload",          "priority",
                                                 "max_attempts", "idempotency_key", "lease_ms",
                                                 "schedule_to_start_timeout_ms", "start_to_close_timeout_ms",
                                                 "project_id"};
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto body = ParseJsonObject(req.body, kFields);
  if (!body) return std::unexpected(body.error());
  jobs::SubmitOptions o;
  auto type = RequiredString(*body, "type");
  if (!type) return std::unexpected(type.error());
  o.job_type = *type;
  if (auto it = body->find("payload"); it != body->end() && !it->value().is_null()) {
    if (!it->value().is_object())
      return Fail(ErrorCode::kInvalidArgument, "field 'payload' must be an object (the job type's parameters)");
    o.payload = it->value().as_object();
  }
  struct IntField {
    std::string_view name;
    std::int64_t min, max;
  };
  static constexpr IntField kInts[] = {{"priority", -1000, 1000},
                                       {"max_attempts", 1, 100},
                                       {"lease_ms", 1000, 3'600'000},
                                       {"schedule_to_start_timeout_ms", 1, 7 * 86'400'000LL},
                                       {"start_to_close_timeout_ms", 1, 7 * 86'400'000LL}};
  for (const auto& f : kInts) {
    auto v = OptionalInt(*body, f.name);
    if (!v) return std::unexpected(v.error());
    if (!*v) continue;
    if (**v < f.min || **v > f.max)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("field '{}' is {}, outside {}..{}", f.name, **v, f.min,
                                                           f.max));
    if (f.name == "priority") o.priority = static_cast<int>(**v);
    else if (f.name == "max_attempts") o.max_attempts = static_cast<int>(**v);
    else if (f.name == "lease_ms") o.lease_ms = **v;
    else if (f.name == "schedule_to_start_timeout_ms") o.schedule_to_start_timeout_ms = **v;
    else o.start_to_close_timeout_ms = **v;
  }
  auto key = OptionalString(*body, "idempotency_key");
  auto project = OptionalString(*body, "project_id");
  if (!key) return std::unexpected(key.error());
  if (!project) return std::unexpected(project.error());
  o.idempotency_key = key->value_or(std::string(req.Header("idempotency-key")));
  if (o.idempotency_key.size() > 200)
    return Fail(ErrorCode::kInvalidArgument, "idempotency key is longer than 200 bytes");
  if (!base::IsStorableText(o.idempotency_key))
    return Fail(ErrorCode::kInvalidArgument,
                "idempotency key (field idempotency_key or header Idempotency-Key) is not UTF-8 text without NUL");
  o.project_id = project->value_or("");
  auto submitted = s.jobs.Submit(o, CommandContextFor(req, who, s.now_us()));
  if (!submitted) return std::unexpected(submitted.error());
  if (!submitted->created) {
    // The key names an existing job: it must be this request's kind of job.
    auto existing = s.jobs.Load(submitted->job_id);
    if (!existing) return std::unexpected(existing.error());
    if (existing->job_type != o.job_type)
      return Fail(ErrorCode::kConflict,
                  fmt::format("idempotency key '{}' already names job {} of type {}, not {}; use a new key",
                              o.idempotency_key, submitted->job_id, existing->job_type, o.job_type));
  }
  const auto url = JobUrl(submitted->job_id);
  return ApiResponse::Json(202, json::object{{"id", submitted->job_id},
                                             {"type", o.job_type},
                                             {"created", submitted->created},
                                             {"url", url}})
      .WithHeader("Location", url);
}

base::Result<ApiResponse> ListJobs(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"status", "type", "project_id", "parent_job_id", "limit", "cursor"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  const auto status = StringParam(req, "status"), type = StringParam(req, "type");
  const auto project = StringParam(req, "project_id"), parent = StringParam(req, "parent_job_id");
  const auto cursor = StringParam(req, "cursor");
  if (!status.empty() && std::ranges::find(kJobStatuses, status) == std::end(kJobStatuses))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("status '{}' is not one of PENDING, IN_PROGRESS, WAITING_RETRY, WAITING_CHILDREN, "
                            "COMPLETED, FAILED, CANCELLED",
                            status));
  if (!type.empty() && !jobs::FindJobType(type))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("type '{}' is not a job type", type));
  if (!parent.empty()) {
    if (auto ok = ParseUuidParam(parent); !ok) return std::unexpected(ok.error());
  }
  std::string at_us, at_id;
  if (!cursor.empty()) {
    const auto sep = cursor.find('_');
    at_us = cursor.substr(0, sep);
    at_id = sep == std::string::npos ? "" : cursor.substr(sep + 1);
    if (at_us.empty() || at_us.size() > 18 || at_us.find_first_not_of("0123456789") != std::string::npos ||
        !base::IsUuid(at_id))
      return Fail(ErrorCode::kInvalidArgument,
                  "cursor is not one this API gave out; pass next_cursor from the previous page unchanged");
  }
  auto limit = LimitParam(req, 50, 200);
  if (!limit) return std::unexpected(limit.error());
  return events::WithConnection(s.pool, "listing jobs", [&](pqxx::connection& conn) -> base::Result<ApiResponse> {
    pqxx::read_transaction tx(conn);
    const auto rows = tx.exec_params(std::string(kListJobs), status, type, project, parent, at_us, at_id,
                                     *limit + 1);
    json::array items;
    json::value next = nullptr;
    for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(i) == *limit) {
        next = json::value(fmt::format("{}_{}", rows[i - 1][1].as<std::int64_t>(), rows[i - 1][2].c_str()));
        break;
      }
      items.emplace_back(json::parse(rows[i][0].c_str()));
    }
    return JsonOk(json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

base::Result<ApiResponse> GetJob(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  auto row = QueryJson(s.pool, "reading a job", "", kOneJob, *id);
  if (row) return JsonOk(*row);
  if (row.error().code != ErrorCode::kNotFound) return std::unexpected(row.error());
  // Just submitted: the log has it, the read model not yet.
  auto state = s.jobs.Load(*id);
  if (!state) return std::unexpected(state.error());
  if (state->status == jobs::JobStatus::kNone) return Fail(ErrorCode::kNotFound, fmt::format("no job {}", *id));
  return JsonOk(json::object{{"id", *id},
                             {"job_type", state->job_type},
                             {"status", jobs::StatusName(state->status)},
                             {"attempt", state->attempt},
                             {"max_attempts", state->max_attempts},
                             {"progress", 0},
                             {"version", state->version},
                             {"read_model", "catching up"}});
}

base::Result<ApiResponse> JobHistory(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  auto events = s.store.ReadStream(jobs::JobStream(*id));
  if (!events) return std::unexpected(events.error());
  if (events->empty()) return Fail(ErrorCode::kNotFound, fmt::format("no job {}", *id));
  json::array items;
  for (const auto& e : *events) items.emplace_back(EventJson(e));
  return JsonOk(json::object{{"job_id", *id}, {"events", std::move(items)}});
}

// Cancel and retry: a lifecycle command with an optional reason.
base::Result<ApiResponse> JobCommand(ApiServices& s, const ApiRequest& req, const Principal& who, bool cancel) {
  static constexpr std::string_view kFields[] = {"reason"};
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  auto body = ParseJsonObject(req.body.empty() ? std::string_view("{}") : std::string_view(req.body), kFields);
  if (!body) return std::unexpected(body.error());
  auto reason = OptionalString(*body, "reason");
  if (!reason) return std::unexpected(reason.error());
  auto current = s.jobs.Load(*id);
  if (!current) return std::unexpected(current.error());
  if (current->status == jobs::JobStatus::kNone) return Fail(ErrorCode::kNotFound, fmt::format("no job {}", *id));
  const auto context = CommandContextFor(req, who, s.now_us());
  const std::string why = reason->value_or(fmt::format("requested by {}", context.actor));
  jobs::Command command = cancel ? jobs::Command(jobs::CancelJob{why})
                                 : jobs::Command(jobs::RetryJob{context.now_us, why});
  auto state = s.jobs.Execute(*id, command, context);
  if (!state) return std::unexpected(state.error());
  return ApiResponse::Json(202, json::object{{"id", *id},
                                             {"status", jobs::StatusName(state->status)},
                                             {"cancel_requested", state->cancel_requested},
                                             {"version", state->version},
                                             {"url", JobUrl(*id)}})
      .WithHeader("Location", JobUrl(*id));
}

}  // namespace

void AddJobRoutes(Router& router, ApiServices& s) {
  router.Add({http::verb::post, "/api/v1/jobs", roles::kJobWriters, false,
              "Submit a job (type, payload, priority, max_attempts, idempotency key); 202 + Location",
              [&s](const ApiRequest& req, const Principal& who) { return SubmitJob(s, req, who); }});
  router.Add({http::verb::get, "/api/v1/jobs", roles::kReaders, false,
              "List jobs (status, type, project_id, parent_job_id; keyset pages)",
              [&s](const ApiRequest& req, const Principal&) { return ListJobs(s, req); }});
  router.Add({http::verb::get, "/api/v1/jobs/{id}", roles::kReaders, false, "One job with progress and counters",
              [&s](const ApiRequest& req, const Principal&) { return GetJob(s, req); }});
  router.Add({http::verb::get, "/api/v1/jobs/{id}/events", roles::kReaders, false, "A job's event history",
              [&s](const ApiRequest& req, const Principal&) { return JobHistory(s, req); }});
  router.Add({http::verb::post, "/api/v1/jobs/{id}/cancel", roles::kJobWriters, false,
              "Cancel a job (a running one stops at its worker's next lease renewal)",
              [&s](const ApiRequest& req, const Principal& who) { return JobCommand(s, req, who, true); }});
  router.Add({http::verb::post, "/api/v1/jobs/{id}/retry", roles::kJobWriters, false, "Retry a FAILED job",
              [&s](const ApiRequest& req, const Principal& who) { return JobCommand(s, req, who, false); }});
}

}  // namespace furrsight::api
