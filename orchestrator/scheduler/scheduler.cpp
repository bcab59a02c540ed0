#include "orchestrator/scheduler/scheduler.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "events/base/uuid.hpp"

namespace furrsight::orchestrator::scheduler {
namespace {

inline constexpr int kSweepLimit = 1000;

inline constexpr std::string_view kOverdueJobs = R"~(
SELECT id::text FROM jobs
WHERE status = 'IN_PROGRESS'
  AND (lease_expires_at < now()
       OR (start_to_close_timeout_ms > 0
           AND attempt_started_at + start_to_close_timeout_ms * interval '1 millisecond' < now()))
UNION ALL
SELECT id::text FROM jobs
WHERE status = 'PENDING' AND schedule_to_start_timeout_ms > 0
  AND created_at + schedule_to_start_timeout_ms * interval '1 millisecond' < now()
LIMIT $1)~";

}  // namespace

base::Result<SweepStats> Scheduler::Sweep() {
  std::vector<std::string> ids;
  {
    auto lease = store_.pool().Acquire();
    if (!lease) return std::unexpected(lease.error());
    try {
      pqxx::nontransaction tx(**lease);
      for (const auto& row : tx.exec_params(std::string(kOverdueJobs), kSweepLimit)) ids.push_back(row[0].as<std::string>());
    } catch (const std::exception& e) {
      lease->Discard();
      return base::Fail(base::ErrorCode::kUnavailable, fmt::format("reading overdue jobs: {}", e.what()));
    }
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  SweepStats stats;
  stats.found = static_cast<int>(ids.size());
  for (const auto& id : ids) {
    const std::int64_t now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    const std::string causation = base::NewUuid();
    jobs::CommandContext context{"system:scheduler", causation, causation, "scheduler", now_us};
    auto r = service_.Execute(id, jobs::TimeOutJob{now_us, std::uniform_real_distribution<double>(0, 1)(rng)}, context);
    if (r) {
      ++stats.timed_out;
      base::log::Info("job timed out", {{"job", id}, {"status", std::string(jobs::StatusName(r->status))},
                                        {"error", r->last_error}});
    } else {
      ++stats.skipped;
      if (r.error().code == base::ErrorCode::kUnavailable) return std::unexpected(r.error());
    }
  }
  return stats;
}

}  // namespace furrsight::orchestrator::scheduler
