#include "workers/runtime/noop_handler.hpp"

#include <fmt/format.h>

namespace furrsight::workers {
namespace {

std::int64_t IntField(const boost::json::object& p, std::string_view key) {
  const auto* v = p.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return 0;
}

}  // namespace

JobOutcome NoopHandler::Run(JobContext& context) {
  const auto& p = context.payload();
  const std::int64_t sleep_attempts = IntField(p, "sleep_attempts");
  const std::int64_t sleep_ms = sleep_attempts == 0 || context.attempt() <= sleep_attempts ? IntField(p, "sleep_ms") : 0;
  const std::int64_t steps = std::max<std::int64_t>(1, IntField(p, "progress_steps"));
  if (sleep_ms > 0) {
    for (std::int64_t step = 0; step < steps; ++step) {
      if (!context.SleepFor(std::chrono::milliseconds(sleep_ms / steps))) return Stopped{};
      if (IntField(p, "progress_steps") > 0)
        context.Progress(static_cast<int>(100 * (step + 1) / steps), {{"steps", step + 1}});
    }
  }
  if (context.stopping()) return Stopped{};
  if (const auto* f = p.if_contains("fail_final"); f != nullptr && f->is_bool() && f->as_bool())
    return Failed{"NOOP asked to fail for good (payload.fail_final)", false};
  if (context.attempt() <= IntField(p, "fail_attempts"))
    return Failed{fmt::format("NOOP asked to fail attempt {} (payload.fail_attempts)", context.attempt()), true};
  if (const std::int64_t n = IntField(p, "children"); n > 0) {
    FannedOut fan;
    for (std::int64_t i = 0; i < n; ++i) {
      orchestrator::jobs::SubmitOptions child;
      child.job_type = "NOOP";
      child.payload["sleep_ms"] = sleep_ms;
      child.payload["result"] = boost::json::object{{"child", i}};
      fan.children.push_back(std::move(child));
    }
    return fan;
  }
  Completed done;
  if (const auto* r = p.if_contains("result"); r != nullptr && r->is_object()) done.result = r->as_object();
  done.result["worker"] = context.command_context().actor;
  done.result["attempt"] = context.attempt();
  return done;
}

}  // namespace furrsight::workers
