// furrsight scheduler: the scheduler (timeouts, retries) and the job
// coordinator (fan-out, chaining, cancel), one active instance at a time.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "events/store/store_context.hpp"
#include "orchestrator/cli/commands.hpp"
#include "orchestrator/scheduler/job_coordinator.hpp"
#include "orchestrator/scheduler/leader_lock.hpp"
#include "orchestrator/scheduler/scheduler.hpp"

namespace furrsight::orchestrator::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnStop(int) { g_stop = true; }

constexpr auto kStandbyRetry = std::chrono::seconds(1);
constexpr auto kLeaderCheck = std::chrono::seconds(5);

}  // namespace

int RunScheduler(Invocation& inv) {
  std::signal(SIGINT, OnStop);
  std::signal(SIGTERM, OnStop);
  events::StoreContext ctx(inv.config);
  auto waker = ctx.MakeWaker({{"job"}, {}});
  const auto interval = std::chrono::milliseconds(inv.config.GetInt("scheduler_interval_ms"));
  scheduler::LeaderLock leader(inv.config.Get("database_url"), "scheduler");
  bool standing_by = false;
  while (!g_stop) {
    if (!leader.TryAcquire()) {
      if (!standing_by) base::log::Info("another scheduler is active; standing by");
      standing_by = true;
      std::this_thread::sleep_for(kStandbyRetry);
      continue;
    }
    base::log::Info("scheduler active", {{"interval_ms", interval.count()}});
    standing_by = false;
    scheduler::Scheduler sweeper(*ctx.store);
    scheduler::JobCoordinator coordinator(*ctx.store, waker.get(), ctx.poll_interval());
    auto next_sweep = std::chrono::steady_clock::now();
    auto next_check = next_sweep + kLeaderCheck;
    while (!g_stop) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_check) {
        if (!leader.IsHeld()) break;
        next_check = now + kLeaderCheck;
      }
      if (now >= next_sweep) {
        next_sweep = now + interval;
        auto swept = sweeper.Sweep();
        if (!swept) base::log::Warn("scheduler sweep failed; retrying", {{"error", swept.error().message}});
      }
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_sweep - std::chrono::steady_clock::now());
      auto stepped = coordinator.Step(std::clamp(wait, std::chrono::milliseconds(1), interval));
      if (!stepped) {
        base::log::Warn("job coordinator failed; retrying", {{"error", stepped.error().message}});
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    if (!g_stop) base::log::Warn("lost the scheduler lock; standing by");
  }
  base::log::Info("scheduler stopped");
  return kExitOk;
}

}  // namespace furrsight::orchestrator::cli
