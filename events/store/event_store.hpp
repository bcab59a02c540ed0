// EventStore: append to and read from the `events` table, the only source of
// truth (migrations/0001_event_store.sql).
//
// Append is ONE SQL statement in autocommit mode: it checks every stream's
// expected version, refuses a re-sent batch as a duplicate, computes the new
// versions and inserts, all at once. Being the first (and only) write of its
// transaction is what makes the (tx_id, global_position) read order safe for
// per-stream order (ARCHITECTURE.md, invariant 4). When it loses a race for a
// stream version, it tries again in a transaction that first takes advisory
// locks on its streams (in sorted order; no write, so the INSERT is still the
// first write), so contended streams serialise instead of retrying forever. It returns only after
// COMMIT (invariant 3); then it tells the Notifier (Redis), whose failure
// never fails the append (invariant 5).
//
// Thread-safe: each call leases its own connection from the pool.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "events/base/error.hpp"
#include "events/store/event.hpp"
#include "events/store/pg_pool.hpp"

namespace furrsight::events {

class ExpectedVersion {
 public:
  static ExpectedVersion Any() { return ExpectedVersion(std::nullopt); }
  static ExpectedVersion NoStream() { return ExpectedVersion(0); }
  static ExpectedVersion Exactly(std::int64_t version) { return ExpectedVersion(version); }

  bool is_any() const { return !value_; }
  std::int64_t value() const { return value_.value_or(-1); }
  std::string ToString() const;  // "any", "no_stream" or the number

 private:
  explicit ExpectedVersion(std::optional<std::int64_t> v) : value_(v) {}
  std::optional<std::int64_t> value_;  // 0: the stream must not exist yet
};

struct StreamExpectation {
  std::string stream_id;
  ExpectedVersion expected;
};

struct AppendedEvent {
  std::string event_id;
  std::string stream_id;
  std::int64_t stream_version = 0;
  LogPosition position;
};

struct AppendResult {
  std::vector<AppendedEvent> events;  // in the order given
  bool duplicate = false;             // the same event ids were appended before; nothing new was written
};

// An item pushed on a Redis list after the append commits: a dispatch hint
// (e.g. a job id for the workers of its type), never the truth.
struct QueueItem {
  std::string queue;   // list "<prefix>:queue:<queue>", e.g. "jobs:SCRAPE_URL"
  std::string item;
  bool front = false;  // popped before the items already waiting (priority)
};

struct AppendOptions {
  // Extra Redis channels to wake (beside the all-events and per-category
  // ones), e.g. "jobs:SCRAPE_URL" for workers of that job type.
  std::vector<std::string> wake_channels;
  std::vector<QueueItem> queue_items;
};

// Told about every committed append. Implementations must not throw and
// must not block for long (Redis publication is one).
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void Appended(const AppendResult& result, std::span<const NewEvent> events,
                        const AppendOptions& options) = 0;
};

enum class Direction { kForward, kBackward };

struct ReadFilter {
  std::vector<std::string> categories;  // empty: all
  std::vector<std::string> types;       // empty: all
};

class EventStore {
 public:
  explicit EventStore(PgPool& pool, Notifier* notifier = nullptr);

  // Statements every pooled connection prepares (pass to PgPool).
  static void PrepareStatements(pqxx::connection& conn);

  // Appends `events` atomically. Every stream written must meet its
  // expectation (streams not listed: any). A kConflict error carries a
  // VersionConflict naming the stream, expected and actual version. The log
  // stores one append's events grouped by stream id (each stream's in the
  // order given), so concurrent appends lock streams in one order.
  base::Result<AppendResult> Append(std::span<const StreamExpectation> expectations, std::span<const NewEvent> events,
                                    const AppendOptions& options = {});
  base::Result<AppendResult> Append(const std::string& stream_id, ExpectedVersion expected,
                                    std::span<const NewEvent> events, const AppendOptions& options = {});

  // One stream, from `from_version` (inclusive) in `direction`.
  base::Result<std::vector<RecordedEvent>> ReadStream(
      const std::string& stream_id, std::int64_t from_version = 1, Direction direction = Direction::kForward,
      int limit = 1000);
  // Several whole streams at once (each in version order; an absent one is empty).
  base::Result<std::map<std::string, std::vector<RecordedEvent>>> ReadStreams(std::span<const std::string> stream_ids);
  // The whole log after `after`, in gap-free order: only events whose
  // transaction id is below the oldest running transaction are returned, so
  // a later read never finds an event that sorts before one returned now.
  base::Result<std::vector<RecordedEvent>> ReadAll(const LogPosition& after, const ReadFilter& filter = {},
                                                   int limit = 1000);
  // The last `limit` readable events matching `filter`, in log order.
  base::Result<std::vector<RecordedEvent>> ReadLast(const ReadFilter& filter, int limit);
  // Current version of a stream (0: it does not exist).
  base::Result<std::int64_t> StreamVersion(const std::string& stream_id);
  // The last readable position of the log (zero when empty), and how many
  // readable events lie after `after`.
  base::Result<LogPosition> Head();
  base::Result<std::int64_t> CountAfter(const LogPosition& after);

  PgPool& pool() { return pool_; }

 private:
  // One try: optimistic (one autocommit statement), or after a lost race
  // with the streams locked first.
  base::Result<AppendResult> AppendOnce(std::span<const StreamExpectation> expectations,
                                        std::span<const NewEvent> events, bool lock_streams, bool& retry);

  PgPool& pool_;
  Notifier* notifier_;
};

// Checks the shape of an event before it goes to PostgreSQL (ids, names,
// metadata of invariant 8); the database checks the same again.
base::Result<void> ValidateNewEvent(const NewEvent& event);

// Runs the append statement inside the caller's transaction `tx`, which
// must not have written anything before (see the header comment). For tests
// that hold transactions open and for callers that commit themselves;
// EventStore::Append is the normal path.
base::Result<AppendResult> AppendInTransaction(pqxx::transaction_base& tx,
                                               std::span<const StreamExpectation> expectations,
                                               std::span<const NewEvent> events);

// The statement ReadStream runs (prepared as fs_read_stream_fwd / _bwd):
// $1 the stream, $2 the version to start from, $3 the limit. Public so
// bench/api_bench can run the very same SQL under pgbench.
std::string ReadStreamSql(Direction direction);

// Parses one row of the events table as selected by kEventColumns.
RecordedEvent ParseEventRow(const pqxx::row& row);

// The text casts are aliased: an output column named like an input column
// would be what ORDER BY sorts by (tx_id as text puts "1000" before "729").
inline constexpr std::string_view kEventColumns = R"~(
  global_position, tx_id::text AS tx_id_text, event_id::text AS event_id_text, stream_id, stream_category,
  stream_version, event_type, schema_version, payload::text AS payload_text, metadata::text AS metadata_text,
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  (extract(epoch FROM recorded_at) * 1000000)::bigint)~";

}  // namespace furrsight::events
