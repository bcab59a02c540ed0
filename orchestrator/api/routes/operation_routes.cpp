// Operations: /healthz (alive; the one route without authentication),
// /readyz (PostgreSQL, Redis, projection lag), /metrics (Prometheus), and the
// projections' status with lag and a rebuild started from the API.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/redis/redis_connection.hpp"
#include "orchestrator/api/read_cache.hpp"
#include "orchestrator/api/rebuild_runner.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "projections/generations.hpp"
#include "projections/registry.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using base::ErrorCode;
using base::Fail;

// Not ready while a live projection is this many events behind the log.
inline constexpr std::int64_t kReadyMaxLagEvents = 10'000;

struct ProjectionLag {
  projections::Generation generation;
  std::int64_t lag_events = 0;
};

base::Result<std::vector<ProjectionLag>> Lags(ApiServices& s) {
  auto generations = events::WithConnection(s.pool, "reading projection generations",
                                            [](pqxx::connection& conn) { return projections::ListGenerations(conn); });
  if (!generations) return std::unexpected(generations.error());
  std::vector<ProjectionLag> out;
  for (auto& g : *generations) {
    if (g.state != "live" && g.state != "building") continue;
    auto lag = s.store.CountAfter(g.checkpoint);
    if (!lag) return std::unexpected(lag.error());
    out.push_back({std::move(g), *lag});
  }
  return out;
}

base::Result<ApiResponse> Health(const ApiRequest&) { return JsonOk(json::object{{"status", "ok"}}); }

base::Result<ApiResponse> Ready(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  json::object checks;
  bool ready = true;
  auto check = [&](std::string_view name, bool ok, std::string detail) {
    checks[name] = json::object{{"ok", ok}, {"detail", std::move(detail)}};
    ready = ready && ok;
  };
  auto pg = events::WithConnection(s.pool, "checking PostgreSQL", [](pqxx::connection& conn) -> base::Result<void> {
    pqxx::nontransaction tx(conn);
    tx.exec("SELECT 1");
    return {};
  });
  check("postgresql", pg.has_value(), pg ? "answers" : pg.error().message);
  auto address = events::ParseRedisUrl(s.config.Get("redis_url"));
  base::Result<void> redis = address ? base::Result<void>() : std::unexpected(address.error());
  if (address) {
    auto conn = events::RedisConnection::Connect(*address, std::chrono::milliseconds(500),
                                                 std::chrono::milliseconds(500));
    if (!conn) redis = std::unexpected(conn.error());
    else if (auto pong = conn->Command("PING"); !pong) redis = std::unexpected(pong.error());
  }
  // Redis is an accelerator: without it the system is slower, not wrong.
  checks["redis"] = json::object{{"ok", redis.has_value()},
                                 {"detail", redis ? std::string("answers")
                                                  : redis.error().message + " (degraded: workers and readers poll)"}};
  if (pg) {
    auto lags = Lags(s);
    if (!lags) {
      check("projections", false, lags.error().message);
    } else {
      std::string detail;
      bool ok = true;
      for (const auto& l : *lags) {
        if (l.generation.state != "live") continue;
        detail += fmt::format("{}{} {} behind", detail.empty() ? "" : ", ", l.generation.name, l.lag_events);
        ok = ok && l.lag_events <= kReadyMaxLagEvents;
      }
      check("projections", ok, detail.empty() ? "no live projection yet" : detail + " events");
    }
  }
  return ApiResponse::Json(ready ? 200 : 503, json::object{{"ready", ready}, {"checks", std::move(checks)}});
}

inline constexpr std::string_view kJobCounts = R"~(
SELECT coalesce(json_agg(json_build_object('type', job_type, 'status', status, 'count', n)), '[]')::text
FROM (SELECT job_type, status, count(*) AS n FROM jobs GROUP BY job_type, status) c)~";

inline constexpr std::string_view kWorkersSeen = R"~(
SELECT json_build_object('workers', count(DISTINCT worker))::text FROM jobs
WHERE worker IS NOT NULL AND updated_at > now() - interval '5 minutes')~";

// Gauges read from the database at scrape time, then the whole registry.
base::Result<ApiResponse> Metrics(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto& m = s.metrics;
  if (s.cache != nullptr) {
    m.SetGauge("furrsight_api_cache_lookups", {{"result", "hit"}}, static_cast<double>(s.cache->hits()));
    m.SetGauge("furrsight_api_cache_lookups", {{"result", "miss"}}, static_cast<double>(s.cache->misses()));
    m.SetGauge("furrsight_api_cache_lookups", {{"result", "redis_error"}}, static_cast<double>(s.cache->errors()));
  }
  if (auto head = s.store.Head()) m.SetGauge("furrsight_log_head_position", {}, static_cast<double>(head->global_position));
  if (auto lags = Lags(s)) {
    for (const auto& l : *lags) {
      const MetricLabels labels{{"projection", l.generation.name}, {"state", l.generation.state}};
      m.SetGauge("furrsight_projection_lag_events", labels, static_cast<double>(l.lag_events));
      m.SetGauge("furrsight_projection_events_applied", labels, static_cast<double>(l.generation.events_applied));
    }
  }
  if (auto counts = QueryJson(s.pool, "counting jobs", "", kJobCounts)) {
    std::vector<std::pair<MetricLabels, double>> values;
    for (const auto& c : counts->as_array()) {
      const auto& o = c.as_object();
      values.push_back({{{"type", std::string(o.at("type").as_string())}, {"status", std::string(o.at("status").as_string())}},
                        o.at("count").to_number<double>()});
    }
    m.SetGaugeFamily("furrsight_jobs", values);  // a status that emptied reads 0
  }
  if (auto seen = QueryJson(s.pool, "counting workers", "", kWorkersSeen))
    m.SetGauge("furrsight_workers_seen", {}, seen->as_object().at("workers").to_number<double>());
  return ApiResponse::Text(200, std::string(kPrometheusContentType), m.RenderText());
}

base::Result<ApiResponse> ProjectionStatus(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto lags = Lags(s);
  if (!lags) return std::unexpected(lags.error());
  json::array items;
  for (const auto& l : *lags) {
    const auto* projection = projections::FindProjection(l.generation.name);
    items.emplace_back(json::object{
        {"name", l.generation.name},
        {"generation", l.generation.generation},
        {"version", l.generation.version},
        {"code_version", projection ? json::value(projection->version()) : json::value(nullptr)},
        {"state", l.generation.state},
        {"schema", l.generation.schema},
        {"checkpoint", FormatPosition(l.generation.checkpoint)},
        {"events_applied", l.generation.events_applied},
        {"lag_events", l.lag_events},
        {"last_event_at", l.generation.last_event_at.empty() ? json::value(nullptr)
                                                              : json::value(l.generation.last_event_at)}});
  }
  return JsonOk(json::object{{"projections", std::move(items)}, {"rebuild", s.rebuilds.Status()}});
}

base::Result<ApiResponse> StartRebuild(ApiServices& s, const ApiRequest& req, const Principal& who) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  const auto name = std::string(req.Param("name"));
  const auto* projection = projections::FindProjection(name);
  if (projection == nullptr) {
    std::string names;
    for (const auto& p : projections::AllProjections()) names += (names.empty() ? "" : ", ") + std::string(p->name());
    return Fail(ErrorCode::kNotFound, fmt::format("no projection named '{}'; known: {}", name, names));
  }
  if (auto ok = s.rebuilds.Start(*projection, ActorOf(who)); !ok) return std::unexpected(ok.error());
  return ApiResponse::Json(202, json::object{{"rebuild", s.rebuilds.Status()}, {"url", "/api/v1/projections"}})
      .WithHeader("Location", "/api/v1/projections");
}

}  // namespace

// The gauges /metrics fills at scrape time, registered before any request.
static void RegisterGauges(MetricsRegistry& m) {
  m.RegisterGauge("furrsight_log_head_position",
                    "global position of the newest event (its rate is the append rate)");
  m.RegisterGauge("furrsight_projection_lag_events", "events in the log not yet applied, per projection");
  m.RegisterGauge("furrsight_projection_events_applied", "events applied by the generation, per projection");
  m.RegisterGauge("furrsight_jobs", "jobs by type and status (the jobs read model)");
  m.RegisterGauge("furrsight_workers_seen", "distinct workers that held a job in the last 5 minutes");
  m.RegisterGauge("furrsight_api_cache_lookups", "read-cache lookups of this process since it started, by result");
}

void AddOperationRoutes(Router& router, ApiServices& s) {
  RegisterGauges(s.metrics);
  router.Add({http::verb::get, "/healthz", {}, true, "Alive (no authentication)",
              [](const ApiRequest& req, const Principal&) { return Health(req); }});
  router.Add({http::verb::get, "/readyz", roles::kOperators, false,
              "Ready: PostgreSQL answers, Redis answers (degraded if not), projections caught up",
              [&s](const ApiRequest& req, const Principal&) { return Ready(s, req); }});
  router.Add({http::verb::get, "/metrics", roles::kOperators, false,
              "Prometheus metrics: requests, latency, log head, projection lag, jobs, workers",
              [&s](const ApiRequest& req, const Principal&) { return Metrics(s, req); }});
  router.Add({http::verb::get, "/api/v1/projections", roles::kOperators, false,
              "Projection generations with checkpoint and lag, and the API's rebuild",
              [&s](const ApiRequest& req, const Principal&) { return ProjectionStatus(s, req); }});
  router.Add({http::verb::post, "/api/v1/projections/{name}/rebuild", roles::kOperators, false,
              "Rebuild a projection from the log in the background and switch readers to it",
              [&s](const ApiRequest& req, const Principal& who) { return StartRebuild(s, req, who); }});
}

}  // namespace furrsight::api
