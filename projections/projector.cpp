#include "projections/projector.hpp"

#include <future>
#include <thread>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "events/store/subscription.hpp"

namespace furrsight::projections {
namespace {

using base::ErrorCode;
using base::Fail;
namespace log = base::log;

// Advances the checkpoint only from where this projector read it, or raises
// ($6, the last event's time, may be '' when only skipping past other events)
// (migrations/0003_projections.sql): it runs first in the batch, so a second
// applier waits for the row lock and then rolls its whole batch back.
inline constexpr std::string_view kAdvanceCheckpoint =
    "SELECT projection_advance($1, $2::integer, $3::xid8, $4::bigint, $5::bigint, nullif($6::text, '')::bigint, "
    "$7::xid8, $8::bigint)";

inline constexpr std::string_view kTryLock = "SELECT pg_try_advisory_lock(hashtext('furrsight.projector.' || $1))";

inline constexpr std::string_view kCheckpointStatement = "furrsight_projector_checkpoint";

constexpr auto kStandbyRetry = std::chrono::milliseconds(500);
constexpr auto kSwitchCheckEvery = std::chrono::seconds(1);

bool PastUntil(const ProjectorOptions& o, const events::RecordedEvent& e) {
  return (o.until_position && e.position.global_position > *o.until_position) ||
         (o.until_time_us && e.recorded_at_us > *o.until_time_us);
}

}  // namespace

Projector::Projector(std::string admin_url, events::EventStore& store, events::RedisWaker* waker,
                     const Projection& projection, ProjectorOptions options)
    : admin_url_(std::move(admin_url)), store_(store), waker_(waker), projection_(projection), options_(options) {}

Projector::~Projector() = default;

base::Result<void> Projector::Connect(const std::string& schema) {
  if (conn_ && conn_->ok() && conn_schema_ == schema) return {};
  conn_.reset();
  auto conn = PipelineConnection::Open(admin_url_, schema);
  if (!conn) return std::unexpected(conn.error());
  for (const auto& statement : projection_.statements())
    if (auto ok = (*conn)->Prepare(statement.name, statement.sql); !ok) return ok;
  if (auto ok = (*conn)->Prepare(kCheckpointStatement, std::string(kAdvanceCheckpoint)); !ok) return ok;
  conn_ = std::move(*conn);
  conn_schema_ = schema;
  return {};
}

base::Result<std::int64_t> Projector::ApplyBatch(const Generation& generation,
                                                 const std::vector<events::RecordedEvent>& batch,
                                                 events::LogPosition& checkpoint) {
  if (batch.empty()) return 0;
  std::vector<SqlCall> calls;
  calls.reserve(batch.size() * 2 + 1);
  const auto& last = batch.back();
  calls.push_back({kCheckpointStatement,
                   {generation.name, std::to_string(generation.generation), std::to_string(last.position.tx_id),
                    std::to_string(last.position.global_position), std::to_string(batch.size()),
                    std::to_string(last.recorded_at_us), std::to_string(checkpoint.tx_id),
                    std::to_string(checkpoint.global_position)}});
  for (const auto& e : batch) projection_.Plan(e, calls);
  // The checkpoint and the handlers' statements: one transaction, one round trip.
  auto affected = conn_->RunBatch(calls);
  if (!affected) {
    if (!conn_->ok()) conn_.reset();
    const bool raced = affected.error().message.find("[40001]") != std::string::npos;
    return base::Fail(raced ? ErrorCode::kConflict : affected.error().code,
                      fmt::format("projector {}: applying up to position {} failed and was rolled back: {}",
                                  generation.name, last.position.global_position, affected.error().message));
  }
  checkpoint = last.position;
  return static_cast<std::int64_t>(batch.size());
}

base::Result<void> Projector::SkipToHead(const Generation& generation, events::LogPosition& checkpoint) {
  if (options_.until_position || options_.until_time_us) return {};  // a snapshot stops where it was told
  auto head = store_.Head();  // first the head, then the read: see below
  if (!head) return std::unexpected(head.error());
  if (!(checkpoint < *head)) return {};
  // This read's snapshot is newer than the head's, and reads are gap-free: if
  // it finds nothing after the checkpoint, nothing this projection reads lies
  // at or before the head.
  auto pending = store_.ReadAll(checkpoint, projection_.filter(), 1);
  if (!pending) return std::unexpected(pending.error());
  if (!pending->empty()) return {};
  auto done = conn_->RunBatch({{kCheckpointStatement,
                                {generation.name, std::to_string(generation.generation), std::to_string(head->tx_id),
                                 std::to_string(head->global_position), "0", "", std::to_string(checkpoint.tx_id),
                                 std::to_string(checkpoint.global_position)}}});
  if (!done) return std::unexpected(done.error());
  checkpoint = *head;
  return {};
}

base::Result<std::int64_t> Projector::CatchUp(int generation_number,
                                              const std::function<void(const CatchUpProgress&)>& progress,
                                              const std::atomic<bool>* stop) {
  pqxx::connection meta(admin_url_);
  auto generation = LoadGeneration(meta, projection_.name(), generation_number);
  if (!generation) return std::unexpected(generation.error());
  if (auto ok = Connect(generation->schema); !ok) return std::unexpected(ok.error());
  events::LogPosition checkpoint = generation->checkpoint;
  std::int64_t applied = 0;
  // Read the next batch while PostgreSQL applies this one.
  auto read = [this](events::LogPosition after) {
    return std::async(std::launch::async,
                      [this, after] { return store_.ReadAll(after, projection_.filter(), options_.batch_size); });
  };
  auto next = read(checkpoint);
  for (;;) {
    auto batch = next.get();
    if (!batch) return std::unexpected(batch.error());
    const bool full = static_cast<int>(batch->size()) == options_.batch_size;
    if (full) next = read(batch->back().position);
    // Positions and times are not monotone in read order: a snapshot skips
    // what lies past its bound and reads on, rather than stopping at it.
    std::erase_if(*batch, [this](const events::RecordedEvent& e) { return PastUntil(options_, e); });
    auto n = ApplyBatch(*generation, *batch, checkpoint);
    if (!n) {
      if (next.valid()) next.wait();
      return std::unexpected(n.error());
    }
    applied += *n;
    if (progress && *n > 0) {
      auto remaining = store_.CountAfter(checkpoint);
      progress({applied, remaining.value_or(0)});
    }
    if (!full) {
      if (auto ok = SkipToHead(*generation, checkpoint); !ok) return std::unexpected(ok.error());
      return applied;
    }
    if (stop && *stop) {
      next.wait();
      return applied;
    }
  }
}

bool Projector::AcquireLock(const std::string& name) {
  try {
    if (!lock_conn_ || !lock_conn_->is_open()) lock_conn_ = std::make_unique<pqxx::connection>(admin_url_);
    pqxx::nontransaction tx(*lock_conn_);
    return tx.exec_params(std::string(kTryLock), name)[0][0].as<bool>();
  } catch (const std::exception& e) {
    lock_conn_.reset();
    log::Warn("projector cannot reach PostgreSQL; retrying", {{"projection", name}, {"error", e.what()}});
    return false;
  }
}

bool Projector::StillHoldsLock() {
  try {
    pqxx::nontransaction tx(*lock_conn_);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    lock_conn_.reset();  // the session and its lock are gone
    return false;
  }
}

base::Result<void> Projector::Run(const std::atomic<bool>& stop) {
  const std::string name(projection_.name());
  while (!stop) {
    // Standby until this process holds the projection's lock.
    while (!stop && !AcquireLock(name)) std::this_thread::sleep_for(kStandbyRetry);
    if (stop) break;
    log::Info("projector active", {{"projection", name}, {"version", projection_.version()}});
    bool holds_lock = true;
    while (!stop && holds_lock) {
      // A lost database is waited out: nothing here may end the process.
      try {
        holds_lock = FollowLiveGeneration(name, stop);
      } catch (const std::exception& e) {
        log::Warn("projector lost PostgreSQL; retrying", {{"projection", name}, {"error", e.what()}});
        conn_.reset();
        std::this_thread::sleep_for(options_.poll_interval);
        holds_lock = StillHoldsLock();
      }
    }
    if (!holds_lock) log::Warn("projector lost its lock; standing by again", {{"projection", name}});
  }
  return {};
}

bool Projector::FollowLiveGeneration(const std::string& name, const std::atomic<bool>& stop) {
  pqxx::connection meta(admin_url_);
  auto live = EnsureLive(meta, projection_);
  if (!live) {
    log::Warn("projector cannot load its generation; retrying", {{"projection", name}, {"error", live.error().message}});
    std::this_thread::sleep_for(options_.poll_interval);
    return StillHoldsLock();
  }
  if (auto ok = Connect(live->schema); !ok) {
    log::Warn("projector cannot connect; retrying", {{"projection", name}, {"error", ok.error().message}});
    std::this_thread::sleep_for(options_.poll_interval);
    return StillHoldsLock();
  }
  events::Subscription sub(store_, waker_,
                           {.from = live->checkpoint, .filter = projection_.filter(),
                            .batch_size = options_.batch_size, .poll_interval = options_.poll_interval});
  events::LogPosition checkpoint = live->checkpoint;
  auto last_check = std::chrono::steady_clock::now();
  // Follow the live generation until it is switched, the lock is lost, or we are stopped.
  while (!stop) {
    auto batch = sub.Next(options_.poll_interval);
    if (!batch) {
      log::Warn("projector read failed; retrying", {{"projection", name}, {"error", batch.error().message}});
      std::this_thread::sleep_for(options_.poll_interval);
      return StillHoldsLock();
    }
    auto n = ApplyBatch(*live, *batch, checkpoint);
    if (!n) {
      log::Warn("projector apply failed; retrying from the checkpoint", {{"projection", name}, {"error", n.error().message}});
      std::this_thread::sleep_for(options_.poll_interval);
      return StillHoldsLock();
    }
    if (batch->empty()) {
      if (auto ok = SkipToHead(*live, checkpoint); !ok)
        log::Warn("projector could not move its checkpoint", {{"projection", name}, {"error", ok.error().message}});
    }
    // Every second (and when idle): still ours, and still the live generation?
    if (batch->empty() || std::chrono::steady_clock::now() - last_check > kSwitchCheckEvery) {
      last_check = std::chrono::steady_clock::now();
      if (!StillHoldsLock()) return false;
      auto now_live = LoadLive(meta, name);
      if (!now_live) return true;  // look again from the top
      if (*now_live && (*now_live)->generation != live->generation) {
        log::Info("projector follows the switched generation", {{"projection", name}, {"generation", (*now_live)->generation}});
        return true;
      }
    }
  }
  return true;
}

}  // namespace furrsight::projections
