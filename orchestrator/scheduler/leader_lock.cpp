#include "orchestrator/scheduler/leader_lock.hpp"

#include <pqxx/pqxx>

#include "events/base/log.hpp"

namespace furrsight::orchestrator::scheduler {
namespace {

// hashtextextended: a stable 64-bit key per role name, in one place.
inline constexpr std::string_view kTryLock = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";
inline constexpr std::string_view kAlive = "SELECT 1";

}  // namespace

LeaderLock::LeaderLock(std::string database_url, std::string role)
    : url_(std::move(database_url)), role_("furrsight.leader/" + std::move(role)) {}

LeaderLock::~LeaderLock() = default;  // closing the session frees the lock

bool LeaderLock::TryAcquire() {
  if (held_ && IsHeld()) return true;
  try {
    if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(url_);
    pqxx::nontransaction tx(*conn_);
    held_ = tx.exec_params(std::string(kTryLock), role_)[0][0].as<bool>();
  } catch (const std::exception& e) {
    conn_.reset();
    held_ = false;
    base::log::Warn("leader lock unavailable", {{"role", role_}, {"error", e.what()}});
  }
  return held_;
}

bool LeaderLock::IsHeld() {
  if (!held_ || !conn_) return false;
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec(std::string(kAlive));
  } catch (const std::exception&) {
    conn_.reset();
    held_ = false;
  }
  return held_;
}

}  // namespace furrsight::orchestrator::scheduler
