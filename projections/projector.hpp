// Projector: applies the log to one generation of a projection, in batches,
// each batch's table changes and checkpoint in one transaction — so each
// event takes effect exactly once, whatever kills the process.
//
// Run() is the live loop: it waits as a standby until it holds the
// projection's advisory lock (one active instance across processes), then
// catches up and follows the log (Redis wake-ups, polling without Redis).
// When an operator switches the projection to another generation, it moves
// over to it. CatchUp() applies what is readable now to a given generation
// (rebuilds, tests). Owns its connection; not thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <pqxx/connection>

#include "events/redis/redis_waker.hpp"
#include "events/store/event_store.hpp"
#include "projections/generations.hpp"
#include "projections/pipeline_connection.hpp"
#include "projections/projection.hpp"

namespace furrsight::projections {

struct ProjectorOptions {
  int batch_size = 500;
  std::chrono::milliseconds poll_interval{250};
  // Stop before events past this position or time (time-travel snapshots).
  std::optional<std::int64_t> until_position;
  std::optional<std::int64_t> until_time_us;
};

struct CatchUpProgress {
  std::int64_t applied = 0;   // by this call
  std::int64_t remaining = 0; // readable events still to apply (an estimate)
};

class Projector {
 public:
  // `admin_url`: the schema owner. `store` reads the log; `waker` may be null.
  Projector(std::string admin_url, events::EventStore& store, events::RedisWaker* waker, const Projection& projection,
            ProjectorOptions options = {});
  ~Projector();

  // Applies every readable event after the generation's checkpoint; returns how many.
  // A set `stop` ends it after the batch in hand (the checkpoint is kept, so
  // a later call goes on from there).
  base::Result<std::int64_t> CatchUp(int generation,
                                     const std::function<void(const CatchUpProgress&)>& progress = {},
                                     const std::atomic<bool>* stop = nullptr);

  // The live loop, until `stop` is set. Returns an error only for bugs and
  // lost databases it cannot recover from.
  base::Result<void> Run(const std::atomic<bool>& stop);


 private:
  base::Result<void> Connect(const std::string& schema);
  bool AcquireLock(const std::string& name);
  // False when the session holding the advisory lock is gone.
  bool StillHoldsLock();
  // Applies the live generation until it is switched (true) or the lock is lost (false).
  bool FollowLiveGeneration(const std::string& name, const std::atomic<bool>& stop);
  // A filtered projection skips events of other categories; when nothing it
  // reads lies between its checkpoint and the log's head, move the
  // checkpoint to the head so its lag reads zero.
  base::Result<void> SkipToHead(const Generation& generation, events::LogPosition& checkpoint);
  base::Result<std::int64_t> ApplyBatch(const Generation& generation, const std::vector<events::RecordedEvent>& batch,
                                        events::LogPosition& checkpoint);

  const std::string admin_url_;
  events::EventStore& store_;
  events::RedisWaker* waker_;
  const Projection& projection_;
  const ProjectorOptions options_;
  std::unique_ptr<PipelineConnection> conn_;  // search_path set to conn_schema_; statements prepared
  std::string conn_schema_;
  std::unique_ptr<pqxx::connection> lock_conn_;  // holds the advisory lock while active
};

}  // namespace furrsight::projections
