// Concurrency limits across all workers (setting job_limits):
//   "SCRAPE_URL=8"       at most 8 SCRAPE_URL jobs run at once, anywhere
//   "SCRAPE_URL/key=2"   at most 2 per concurrency key (e.g. per target host)
//
// A limit of N is N slots, each a PostgreSQL session advisory lock
// (class = hash of the type and key, object = slot number) held by the
// worker that runs the job, on a connection of its own. A worker that dies
// loses its connection and so frees its slots at once; a worker that is
// stopped (SIGSTOP) keeps them, which errs on the safe side. If PostgreSQL
// restarts, the locks vanish while the jobs run: for that moment the limit
// may be exceeded (docs/jobs.md). Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "events/base/error.hpp"

namespace furrsight::workers {

struct JobLimits {
  std::map<std::string, int> per_type;  // job type -> slots
  std::map<std::string, int> per_key;   // job type -> slots per key

  // Parses "TYPE=N,TYPE/key=N"; kInvalidArgument names the bad entry.
  static base::Result<JobLimits> Parse(std::string_view text);
  bool Limits(const std::string& job_type) const { return per_type.contains(job_type) || per_key.contains(job_type); }
};

class LimitLocks {
 public:
  LimitLocks(std::string database_url, JobLimits limits);
  ~LimitLocks();

  // The slots one job holds; give them back with Release.
  struct Held {
    std::vector<std::pair<int, int>> locks;  // (class, slot)
  };

  // Takes a slot of every limit that applies to (job_type, key): the held
  // slots, nullopt when a limit is full, or an error (PostgreSQL down).
  base::Result<std::optional<Held>> TryAcquire(const std::string& job_type, const std::string& key);
  void Release(const Held& held);
  const JobLimits& limits() const { return limits_; }

 private:
  base::Result<std::optional<int>> TryLock(int lock_class, int slots);  // mu_ held
  void Unlock(int lock_class, int slot);                                  // mu_ held

  const std::string url_;
  const JobLimits limits_;
  std::mutex mu_;
  std::unique_ptr<pqxx::connection> conn_;  // guarded by mu_; the session that holds the locks
  std::set<std::pair<int, int>> held_;      // guarded by mu_; (class, slot) locked by conn_
};

}  // namespace furrsight::workers
