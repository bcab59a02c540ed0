// furrsight jobs submit / show / list / cancel / retry.
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "orchestrator/cli/commands.hpp"
#include "events/store/store_context.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::orchestrator::cli {

using events::StoreContext;
namespace {

jobs::CommandContext CliContext() {
  const char* user = std::getenv("USER");
  std::string id = base::NewUuid();
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  return {fmt::format("cli:{}", user != nullptr ? user : "unknown"), id, id, "cli", now.count()};
}

base::Result<int> IntOption(const Invocation& inv, std::string_view name, int fallback) {
  auto v = inv.Option(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= 0) return n;
  } catch (const std::exception&) {
  }
  return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("--{} must be a whole number, not '{}'", name, *v));
}

int NeedsOneId(const Invocation& inv, std::string_view verb) {
  fmt::print(stderr, "furrsight: jobs {} needs one job id, e.g. furrsight jobs {} <uuid>\n", verb, verb);
  (void)inv;
  return kExitUsage;
}

}  // namespace

int RunJobsSubmit(Invocation& inv) {
  if (inv.args.size() != 1) {
    std::string types;
    for (const auto& t : jobs::JobTypes()) types += fmt::format("  {:<20} {}\n", t.name, t.summary);
    fmt::print(stderr, "furrsight: jobs submit needs one TYPE:\n{}", types);
    return kExitUsage;
  }
  jobs::SubmitOptions o;
  o.job_type = inv.args[0];
  boost::system::error_code ec;
  auto payload = boost::json::parse(inv.Option("payload").value_or("{}"), ec);
  if (ec || !payload.is_object()) {
    fmt::print(stderr, "furrsight: --payload must be a JSON object, e.g. --payload '{{\"urls\":[\"https://example.org\"]}}'\n");
    return kExitUsage;
  }
  o.payload = payload.as_object();
  auto priority = IntOption(inv, "priority", 0);
  auto attempts = IntOption(inv, "max-attempts", 0);
  if (!priority) return ReportError(priority.error());
  if (!attempts) return ReportError(attempts.error());
  o.priority = *priority;
  o.max_attempts = *attempts;
  for (auto [flag, field] : {std::pair{"lease-ms", &o.lease_ms}, std::pair{"schedule-to-start-ms", &o.schedule_to_start_timeout_ms},
                             std::pair{"start-to-close-ms", &o.start_to_close_timeout_ms}}) {
    auto ms = IntOption(inv, flag, 0);
    if (!ms) return ReportError(ms.error());
    *field = *ms;
  }
  o.idempotency_key = inv.Option("idempotency-key").value_or("");
  o.project_id = inv.Option("project").value_or("");
  StoreContext ctx(inv.config);
  jobs::JobService service(*ctx.store);
  auto submitted = service.Submit(o, CliContext());
  if (!submitted) return ReportError(submitted.error());
  fmt::print("{}{}\n", submitted->job_id, submitted->created ? "" : "  (already requested with this idempotency key)");
  return kExitOk;
}

int RunJobsShow(Invocation& inv) {
  if (inv.args.size() != 1) return NeedsOneId(inv, "show");
  StoreContext ctx(inv.config);
  jobs::JobService service(*ctx.store);
  auto state = service.Load(inv.args[0]);
  if (!state) return ReportError(state.error());
  if (state->status == jobs::JobStatus::kNone) {
    fmt::print(stderr, "furrsight: no job {} (see furrsight jobs list)\n", inv.args[0]);
    return kExitFailure;
  }
  fmt::print("job {}  {}  {}  attempt {}/{}{}{}\n", inv.args[0], state->job_type, jobs::StatusName(state->status),
             state->attempt, state->max_attempts, state->worker.empty() ? "" : "  worker " + state->worker,
             state->last_error.empty() ? "" : "  last error: " + state->last_error);
  auto history = ctx.store->ReadStream(jobs::JobStream(inv.args[0]));
  if (!history) return ReportError(history.error());
  for (const auto& e : *history)
    fmt::print("  {:>3}  {}  {:<20} {}\n", e.stream_version, e.recorded_at, e.type, e.payload_json);
  return kExitOk;
}

int RunJobsList(Invocation& inv) {
  auto limit = IntOption(inv, "limit", 50);
  if (!limit) return ReportError(limit.error());
  try {
    pqxx::connection conn(inv.config.Get("database_url"));
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(
        "SELECT id::text, job_type, status, attempt, progress, created_at::text FROM jobs "
        "WHERE ($1 = '' OR status = upper($1)) AND ($2 = '' OR job_type = upper($2)) "
        "ORDER BY created_at DESC, id LIMIT $3",
        inv.Option("status").value_or(""), inv.Option("type").value_or(""), *limit);
    fmt::print("{:<36}  {:<20} {:<13} {:>7} {:>8}  {}\n", "id", "type", "status", "attempt", "progress", "created");
    for (const auto& r : rows)
      fmt::print("{:<36}  {:<20} {:<13} {:>7} {:>7}%  {}\n", r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(),
                 r[4].c_str(), r[5].c_str());
  } catch (const pqxx::undefined_table&) {
    fmt::print(stderr, "furrsight: the jobs read model does not exist yet: run 'furrsight projections run' "
                       "(or 'furrsight dev')\n");
    return kExitFailure;
  } catch (const std::exception& e) {
    fmt::print(stderr, "furrsight: jobs list: {}\n", e.what());
    return kExitFailure;
  }
  return kExitOk;
}

int RunJobsCancel(Invocation& inv) {
  if (inv.args.size() != 1) return NeedsOneId(inv, "cancel");
  StoreContext ctx(inv.config);
  jobs::JobService service(*ctx.store);
  auto state = service.Execute(inv.args[0], jobs::CancelJob{inv.Option("reason").value_or("cancelled from the CLI")},
                               CliContext());
  if (!state) return ReportError(state.error());
  fmt::print("{}: {}{}\n", inv.args[0], jobs::StatusName(state->status),
             state->status == jobs::JobStatus::kInProgress ? " (cancel requested; the worker stops at its next lease "
                                                             "renewal)"
                                                           : "");
  return kExitOk;
}

int RunJobsRetry(Invocation& inv) {
  if (inv.args.size() != 1) return NeedsOneId(inv, "retry");
  StoreContext ctx(inv.config);
  jobs::JobService service(*ctx.store);
  auto context = CliContext();
  auto state = service.Execute(inv.args[0], jobs::RetryJob{context.now_us, "retried from the CLI"}, context);
  if (!state) return ReportError(state.error());
  fmt::print("{}: {} (attempt {} may run)\n", inv.args[0], jobs::StatusName(state->status), state->next_attempt);
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
