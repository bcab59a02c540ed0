// JobService: the job commands over the event store — submit (validated,
// idempotent by key), and every lifecycle command (claim, complete, cancel,
// retry, ...) as load state -> Decide -> append with the stream's version.
// A lost race comes back as kConflict: the caller reloads and decides again.
// Appends that make a job claimable push its id on the Redis queue
// "jobs:<TYPE>" (a dispatch hint for workers; they also poll the read model).
// Thread-safe (the store is).
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "events/store/event_store.hpp"
#include "orchestrator/jobs/job_lifecycle.hpp"

namespace furrsight::orchestrator::jobs {

// Who asks, why and in which request (invariant 8), and the time to decide with.
struct CommandContext {
  std::string actor;           // "user:<uuid>", "cli:<login>", "worker:<name>", "system:scheduler"
  std::string correlation_id;  // the request
  std::string causation_id;    // the command: event ids derive from it, so a re-sent command is idempotent
  std::string source;          // "cli", "api", "worker", ...
  std::int64_t now_us = 0;
};

struct SubmitOptions {
  std::string job_type;
  boost::json::object payload;
  int priority = 0;
  int max_attempts = 0;  // 0: the default (3)
  std::int64_t lease_ms = 0;
  std::int64_t schedule_to_start_timeout_ms = 0;
  std::int64_t start_to_close_timeout_ms = 0;
  std::string idempotency_key;  // the same key always names the same job
  std::string parent_job_id;
  std::string project_id;
};

struct Submitted {
  std::string job_id;
  bool created = false;  // false: the key's job existed already
};

std::string JobStream(const std::string& job_id);  // "job-<uuid>"

class JobService {
 public:
  explicit JobService(events::EventStore& store) : store_(store) {}

  base::Result<Submitted> Submit(const SubmitOptions& options, const CommandContext& context);
  base::Result<JobState> Load(const std::string& job_id);
  // The states of several jobs in one read; ids that are not job ids or do
  // not replay are left out (and logged), so one bad job blocks no other.
  base::Result<std::map<std::string, JobState>> LoadMany(std::span<const std::string> job_ids);
  // Claims several jobs for `worker` in one append, each at the version of
  // its given state; kConflict (and nothing appended) if any one moved.
  base::Result<std::map<std::string, JobState>> ClaimMany(const std::map<std::string, JobState>& states,
                                                          const std::string& worker, const CommandContext& context);
  // Decides `command` against the job's current state and appends the result
  // with that state's version as the expected version; returns the new state.
  base::Result<JobState> Execute(const std::string& job_id, const Command& command, const CommandContext& context);
  // The same against a state the caller already holds (a worker tracks the
  // versions of its own appends): no read. kConflict when the state is stale.
  base::Result<JobState> ExecuteOn(const std::string& job_id, const JobState& state, const Command& command,
                                   const CommandContext& context);
  // A worker's attempt fans out: requests `children` (ids derived from the
  // parent, its attempt and each child's position, so a repeated plan names the same jobs)
  // and appends JobChildrenPlanned to the parent, all in one append. A job
  // being cancelled is acknowledged as cancelled instead.
  base::Result<JobState> FanOut(const std::string& job_id, const JobState& state, const std::string& worker,
                                int attempt, const std::vector<SubmitOptions>& children,
                                const CommandContext& context);

  // The id of child `index` of `parent_job_id`'s attempt `attempt` (a retried
  // parent plans new children; a repeated plan of one attempt names the same).
  static std::string ChildJobId(const std::string& parent_job_id, int attempt, size_t index);

 private:
  events::EventStore& store_;
};

}  // namespace furrsight::orchestrator::jobs
