// LeaderLock: "one active instance" for a role (the scheduler), as a
// PostgreSQL session advisory lock held on a connection of its own. Whoever
// holds it leads; a standby asks again. If the leader dies its session ends
// and the lock is free at once; if its connection breaks, IsHeld() says so.
// Not thread-safe: one owner thread.
#pragma once

#include <memory>
#include <string>

#include <pqxx/connection>

namespace furrsight::orchestrator::scheduler {

class LeaderLock {
 public:
  LeaderLock(std::string database_url, std::string role);
  ~LeaderLock();

  // Takes the lock if free (never waits); true while this instance holds it.
  bool TryAcquire();
  // Whether the lock is still held (checks the session is alive).
  bool IsHeld();

 private:
  const std::string url_;
  const std::string role_;
  std::unique_ptr<pqxx::connection> conn_;
  bool held_ = false;
};

}  // namespace furrsight::orchestrator::scheduler
