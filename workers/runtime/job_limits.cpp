#include "workers/runtime/job_limits.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;

// The first free slot of a limit: one round trip. The executor pulls rows
// one at a time, so LIMIT 1 stops at the first lock taken. Advisory locks are
// re-entrant within a session, so the slots this worker holds already are
// skipped ($3) — inside a CASE, because the planner orders the conditions of a
// WHERE by cost and would otherwise take the lock first (and leak it).
inline constexpr std::string_view kTryLockSlot = R"~(
SELECT s FROM generate_series(0, $2::int - 1) s
WHERE CASE WHEN s = ANY($3::int[]) THEN false ELSE pg_try_advisory_lock($1::int, s) END LIMIT 1)~";
inline constexpr std::string_view kUnlockSlot = "SELECT pg_advisory_unlock($1::int, $2::int)";

// FNV-1a, folded into PostgreSQL's int4: the advisory lock class of a limit.
int LockClass(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return static_cast<int>(h);
}

}  // namespace

base::Result<JobLimits> JobLimits::Parse(std::string_view text) {
  JobLimits out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string entry(text.substr(start, end - start));
    start = end + 1;
    std::erase(entry, ' ');
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    const std::string what = entry.substr(0, eq);
    const std::string type = what.ends_with("/key") ? what.substr(0, what.size() - 4) : what;
    int n = 0;
    try {
      size_t used = 0;
      if (eq != std::string::npos) n = std::stoi(entry.substr(eq + 1), &used);
      if (eq == std::string::npos || used != entry.size() - eq - 1) n = 0;
    } catch (const std::exception&) {
      n = 0;
    }
    if (n <= 0)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("job_limits: '{}' is not TYPE=N or TYPE/key=N with N > 0 (e.g. SCRAPE_URL/key=2)", entry));
    if (orchestrator::jobs::FindJobType(type) == nullptr)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("job_limits: '{}' is not a job type", type));
    (what.ends_with("/key") ? out.per_key : out.per_type)[type] = n;
  }
  return out;
}

LimitLocks::LimitLocks(std::string database_url, JobLimits limits)
    : url_(std::move(database_url)), limits_(std::move(limits)) {}

LimitLocks::~LimitLocks() = default;

base::Result<std::optional<int>> LimitLocks::TryLock(int lock_class, int slots) {
  try {
    if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(url_);
    pqxx::nontransaction tx(*conn_);
    std::string mine = "{";
    for (auto it = held_.lower_bound({lock_class, 0}); it != held_.end() && it->first == lock_class; ++it)
      mine += (mine.size() > 1 ? "," : "") + std::to_string(it->second);
    mine += "}";
    pqxx::result r = tx.exec_params(std::string(kTryLockSlot), lock_class, slots, mine);
    if (r.empty()) return std::optional<int>();
    const int slot = r[0][0].as<int>();
    held_.emplace(lock_class, slot);
    return std::optional<int>(slot);
  } catch (const std::exception& e) {
    conn_.reset();  // its locks are gone with it
    held_.clear();
    return Fail(ErrorCode::kUnavailable, fmt::format("concurrency limits: {}", e.what()));
  }
}

void LimitLocks::Unlock(int lock_class, int slot) {
  if (held_.erase({lock_class, slot}) == 0) return;  // lost with a broken session already
  try {
    if (!conn_) return;
    pqxx::nontransaction tx(*conn_);
    tx.exec_params(std::string(kUnlockSlot), lock_class, slot);
  } catch (const std::exception& e) {
    conn_.reset();
    held_.clear();
    base::log::Warn("could not free a concurrency slot; dropped the lock session", {{"error", e.what()}});
  }
}

base::Result<std::optional<LimitLocks::Held>> LimitLocks::TryAcquire(const std::string& job_type,
                                                                     const std::string& key) {
  std::vector<std::pair<int, int>> wanted;  // (class, slots)
  if (auto it = limits_.per_type.find(job_type); it != limits_.per_type.end())
    wanted.emplace_back(LockClass("furrsight.limit/" + job_type), it->second);
  if (auto it = limits_.per_key.find(job_type); it != limits_.per_key.end())
    wanted.emplace_back(LockClass("furrsight.limit/" + job_type + "/key/" + key), it->second);
  Held held;
  std::lock_guard lock(mu_);
  for (const auto& [lock_class, slots] : wanted) {
    auto slot = TryLock(lock_class, slots);
    if (!slot || !*slot) {
      for (const auto& [c, s] : held.locks) Unlock(c, s);
      if (!slot) return std::unexpected(slot.error());
      return std::optional<Held>();
    }
    held.locks.emplace_back(lock_class, **slot);
  }
  return std::optional<Held>(std::move(held));
}

void LimitLocks::Release(const Held& held) {
  std::lock_guard lock(mu_);
  for (const auto& [lock_class, slot] : held.locks) Unlock(lock_class, slot);
}

}  // namespace furrsight::workers
