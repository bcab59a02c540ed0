#include "events/store/event_store.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <regex>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"

namespace furrsight::events {
namespace {

using base::ErrorCode;
using base::Fail;

// The append: one statement. `s` holds each stream's expectation and actual
// version, `dup` how many of the event ids are already recorded; the INSERT
// writes only when every expectation holds and nothing is a duplicate.
inline constexpr std::string_view kAppend = R"~(
WITH
s AS (
  SELECT x.stream_id, x.expected,
         coalesce((SELECT max(e.stream_version) FROM events e WHERE e.stream_id = x.stream_id), 0) AS actual
  FROM jsonb_to_recordset($1::jsonb) AS x(stream_id text, expected bigint)
),
input AS (
  SELECT (v->>'event_id')::uuid AS event_id, v->>'stream_id' AS stream_id, v->>'event_type' AS event_type,
         (v->>'schema_version')::int AS schema_version, v->'payload' AS payload, v->'metadata' AS metadata, ord
  FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(v, ord)
),
-- A probe of the unique index per event: a join here was planned as a scan of
-- the whole log when the statement was prepared on a small table.
dup AS (
  SELECT count(*) AS n FROM input i
  WHERE (SELECT 1 FROM events e WHERE e.event_id = i.event_id LIMIT 1) IS NOT NULL
),
bad AS (SELECT count(*) AS n FROM s WHERE s.expected IS NOT NULL AND s.expected <> s.actual),
-- Shared stream locks, tried: a retry after a lost race holds its streams'
-- locks exclusively (kLockStreams), so while it runs no other append to them
-- can write, and a retry never loses a second time. $3: the caller holds
-- its streams' locks already (a retry, or an append in a longer transaction).
lk AS MATERIALIZED (
  SELECT coalesce(bool_and(pg_try_advisory_xact_lock_shared(hashtextextended(stream_id, 1179996754))), true) AS ok
  FROM (SELECT stream_id FROM s WHERE NOT $3::bool ORDER BY stream_id) sorted
),
ins AS (
  INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, payload, metadata)
  SELECT i.event_id, i.stream_id, s.actual + row_number() OVER (PARTITION BY i.stream_id ORDER BY i.ord),
         i.event_type, i.schema_version, i.payload, i.metadata
  FROM input i JOIN s USING (stream_id)
  WHERE (SELECT ok FROM lk) AND (SELECT n FROM bad) = 0 AND (SELECT n FROM dup) = 0
  -- Grouped by stream, each stream in the order given: concurrent appends then
  -- take the streams' index entries in one order and cannot deadlock.
  ORDER BY i.stream_id, i.ord
  RETURNING event_id, stream_id, stream_version, global_position, tx_id
)
SELECT 'appended', event_id::text, stream_id, stream_version, global_position, tx_id::text FROM ins
UNION ALL
SELECT 'conflict', NULL, stream_id, actual, expected, NULL FROM s
 WHERE (SELECT ok FROM lk) AND (SELECT n FROM dup) = 0 AND s.expected IS NOT NULL AND s.expected <> s.actual
UNION ALL
SELECT 'duplicate', NULL, NULL, n, NULL, NULL FROM dup WHERE n > 0 AND (SELECT ok FROM lk)
UNION ALL
SELECT 'busy', NULL, NULL, NULL, NULL, NULL FROM lk WHERE NOT ok)~";

// The common case, one event: the same checks as kAppend in a lighter
// statement. No row back means a conflict, a duplicate or a stream locked by
// a retrying append; the caller then runs kAppend, which says which.
inline constexpr std::string_view kAppendOne = R"~(
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, payload, metadata)
SELECT $1::uuid, $2, v.actual + 1, $3, $4, $5::jsonb, $6::jsonb
FROM (SELECT coalesce(max(stream_version), 0) AS actual FROM events WHERE stream_id = $2) v
WHERE pg_try_advisory_xact_lock_shared(hashtextextended($2, 1179996754))
  AND ($7::bigint IS NULL OR v.actual = $7::bigint)
  AND (SELECT 1 FROM events e WHERE e.event_id = $1::uuid LIMIT 1) IS NULL
RETURNING event_id::text, stream_id, stream_version, global_position, tx_id::text)~";

// Stream locks in one order (sorted), so lockers never deadlock: exclusive
// for a retry after a lost race, shared for an append inside a longer
// transaction (kAppend then holds its tried shared locks already).
inline constexpr std::string_view kLockStreams = R"~(
SELECT pg_advisory_xact_lock(hashtextextended(s, 1179996754))
FROM (SELECT s FROM jsonb_array_elements_text($1::jsonb) AS s ORDER BY s) sorted)~";
inline constexpr std::string_view kLockStreamsShared = R"~(
SELECT pg_advisory_xact_lock_shared(hashtextextended(s, 1179996754))
FROM (SELECT s FROM jsonb_array_elements_text($1::jsonb) AS s ORDER BY s) sorted)~";

inline constexpr std::string_view kSelectByEventIds = R"~(
SELECT event_id::text, stream_id, stream_version, global_position, tx_id::text
FROM events WHERE event_id = ANY(string_to_array($1, ',')::uuid[]))~";

inline constexpr std::string_view kReadStreamForward = R"~(
SELECT {} FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3)~";
inline constexpr std::string_view kReadStreamBackward = R"~(
SELECT {} FROM events WHERE stream_id = $1 AND stream_version <= $2 ORDER BY stream_version DESC LIMIT $3)~";
inline constexpr std::string_view kReadStreams = R"~(
SELECT {} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version)~";

// Gap-free reads (invariant 4): in (tx_id, global_position) order, and only
// below the oldest transaction still running, in one statement.
inline constexpr std::string_view kReadAll = R"~(
SELECT {} FROM events
WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
  AND ($4 = '' OR event_type = ANY(string_to_array($4, ',')))
ORDER BY tx_id, global_position
LIMIT $3)~";
inline constexpr std::string_view kReadCategories = R"~(
SELECT {} FROM events
WHERE stream_category = ANY(string_to_array($5, ','))
  AND (tx_id, global_position) > ($1::xid8, $2::bigint)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
  AND ($4 = '' OR event_type = ANY(string_to_array($4, ',')))
ORDER BY tx_id, global_position
LIMIT $3)~";

inline constexpr std::string_view kReadLast = R"~(
SELECT * FROM (
  SELECT {} FROM events
  WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
    AND ($2 = '' OR stream_category = ANY(string_to_array($2, ',')))
    AND ($3 = '' OR event_type = ANY(string_to_array($3, ',')))
  ORDER BY tx_id DESC, global_position DESC
  LIMIT $1) last
ORDER BY tx_id_text::xid8, global_position)~";

inline constexpr std::string_view kStreamVersion =
    "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1";
inline constexpr std::string_view kHead = R"~(
SELECT tx_id::text AS tx_id_text, global_position FROM events
WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY tx_id DESC, global_position DESC LIMIT 1)~";
inline constexpr std::string_view kCountAfter = R"~(
SELECT count(*) FROM events
WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot()))~";

constexpr int kMaxAnyRetries = 20;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string JsonString(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string MetadataJson(const EventMetadata& m) {
  return fmt::format(R"({{"actor":{},"correlation_id":{},"causation_id":{},"source":{}}})", JsonString(m.actor),
                     JsonString(m.correlation_id), JsonString(m.causation_id), JsonString(m.source));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ',';
    out += i;
  }
  return out;
}

LogPosition PositionOf(const pqxx::field& tx, const pqxx::field& pos) {
  return LogPosition{std::stoull(tx.c_str()), pos.as<std::int64_t>()};
}

base::Result<void> ValidateNames(const std::vector<std::string>& names, const std::regex& re, std::string_view what) {
  for (const auto& n : names)
    if (!std::regex_match(n, re)) return Fail(ErrorCode::kInvalidArgument, fmt::format("invalid {} '{}'", what, n));
  return {};
}

// Filters go into the statements as comma-separated lists: only plain names.
base::Result<void> ValidateFilter(const ReadFilter& filter) {
  static const std::regex kCategory("^[a-z][a-z0-9_]*$");
  static const std::regex kType("^[A-Z][A-Za-z0-9]*$");
  if (auto ok = ValidateNames(filter.categories, kCategory, "category"); !ok) return ok;
  return ValidateNames(filter.types, kType, "event type");
}

}  // namespace

std::string ExpectedVersion::ToString() const {
  if (!value_) return "any";
  if (*value_ == 0) return "no_stream";
  return std::to_string(*value_);
}

base::Result<void> ValidateNewEvent(const NewEvent& e) {
  static const std::regex kUuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  static const std::regex kStream("^[a-z][a-z0-9_]*-.+$");
  static const std::regex kType("^[A-Z][A-Za-z0-9]*$");
  if (!std::regex_match(e.event_id, kUuid))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("event id '{}' is not a UUID", e.event_id));
  if (!std::regex_match(e.stream_id, kStream))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("stream id '{}' must look like '<category>-<id>' (category: a-z, 0-9, _)", e.stream_id));
  if (!std::regex_match(e.type, kType))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("event type '{}' must be PascalCase", e.type));
  if (e.metadata.actor.empty() || e.metadata.correlation_id.empty() || e.metadata.causation_id.empty())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("event {} lacks actor, correlation id or causation id (every event records who, why "
                            "and which request)",
                            e.type));
  // The payload is spliced into the batch's JSON: it must be one JSON object, nothing more.
  boost::system::error_code ec;
  auto payload = boost::json::parse(e.payload_json, ec);
  if (ec || !payload.is_object())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("append refused: event {} payload is not a JSON object{}", e.type,
                            ec ? " (" + ec.message() + ")" : ""));
  return {};
}

RecordedEvent ParseEventRow(const pqxx::row& r) {
  RecordedEvent e;
  e.position = PositionOf(r[1], r[0]);
  e.event_id = r[2].c_str();
  e.stream_id = r[3].c_str();
  e.category = r[4].c_str();
  e.stream_version = r[5].as<std::int64_t>();
  e.type = r[6].c_str();
  e.schema_version = r[7].as<int>();
  e.payload_json = r[8].c_str();
  e.metadata_json = r[9].c_str();
  e.recorded_at = r[10].c_str();
  e.recorded_at_us = r[11].as<std::int64_t>();
  return e;
}

std::string ReadStreamSql(Direction direction) {
  return fmt::format(fmt::runtime(direction == Direction::kForward ? kReadStreamForward : kReadStreamBackward),
                     kEventColumns);
}

EventStore::EventStore(PgPool& pool, Notifier* notifier) : pool_(pool), notifier_(notifier) {}

void EventStore::PrepareStatements(pqxx::connection& conn) {
  conn.prepare("fs_append", std::string(kAppend));
  conn.prepare("fs_by_event_ids", std::string(kSelectByEventIds));
  conn.prepare("fs_lock_streams", std::string(kLockStreams));
  conn.prepare("fs_lock_streams_shared", std::string(kLockStreamsShared));
  conn.prepare("fs_append_one", std::string(kAppendOne));
  conn.prepare("fs_read_stream_fwd", ReadStreamSql(Direction::kForward));
  conn.prepare("fs_read_stream_bwd", ReadStreamSql(Direction::kBackward));
  conn.prepare("fs_read_streams", fmt::format(fmt::runtime(kReadStreams), kEventColumns));
  conn.prepare("fs_read_all", fmt::format(fmt::runtime(kReadAll), kEventColumns));
  conn.prepare("fs_read_categories", fmt::format(fmt::runtime(kReadCategories), kEventColumns));
  conn.prepare("fs_stream_version", std::string(kStreamVersion));
  conn.prepare("fs_head", std::string(kHead));
  conn.prepare("fs_count_after", std::string(kCountAfter));
}

base::Result<AppendResult> EventStore::Append(const std::string& stream_id, ExpectedVersion expected,
                                              std::span<const NewEvent> events, const AppendOptions& options) {
  StreamExpectation e{stream_id, expected};
  return Append(std::span<const StreamExpectation>(&e, 1), events, options);
}

base::Result<AppendResult> EventStore::Append(std::span<const StreamExpectation> expectations,
                                              std::span<const NewEvent> events, const AppendOptions& options) {
  if (events.empty()) return Fail(ErrorCode::kInvalidArgument, "append: no events given");
  std::set<std::string> ids;
  for (const NewEvent& e : events) {
    if (auto ok = ValidateNewEvent(e); !ok) return std::unexpected(ok.error());
    if (!ids.insert(Lower(e.event_id)).second)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("append: event id {} appears twice in one batch", e.event_id));
  }
  for (const auto& x : expectations) {
    bool written = std::any_of(events.begin(), events.end(), [&](const NewEvent& e) { return e.stream_id == x.stream_id; });
    if (!written)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("append: an expectation names stream {} but no event is for it", x.stream_id));
  }
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    auto result = AppendOnce(expectations, events, /*lock_streams=*/attempt > 0, retry);
    if (retry && attempt < kMaxAnyRetries) continue;
    if (result && !result->duplicate && notifier_ != nullptr) notifier_->Appended(*result, events, options);
    return result;
  }
}

namespace {

// The two JSON parameters of kAppend: streams with their expectations, and events.
struct AppendParams {
  std::map<std::string, ExpectedVersion> streams;
  std::string stream_ids_json;  // ["job-1", ...]
  std::string streams_json;
  std::string events_json;
  std::string ids;  // comma-separated event ids
};

AppendParams BuildAppendParams(std::span<const StreamExpectation> expectations, std::span<const NewEvent> events) {
  AppendParams p;
  for (const NewEvent& e : events) p.streams.emplace(e.stream_id, ExpectedVersion::Any());
  for (const auto& x : expectations) p.streams.insert_or_assign(x.stream_id, x.expected);
  p.streams_json = "[";
  for (const auto& [id, expected] : p.streams) {
    if (p.streams_json.size() > 1) p.streams_json += ',';
    p.streams_json += fmt::format(R"({{"stream_id":{},"expected":{}}})", JsonString(id),
                                  expected.is_any() ? std::string("null") : std::to_string(expected.value()));
  }
  p.streams_json += ']';
  p.stream_ids_json = "[";
  for (const auto& [id, expected] : p.streams)
    p.stream_ids_json += (p.stream_ids_json.size() > 1 ? "," : "") + JsonString(id);
  p.stream_ids_json += ']';
  p.events_json = "[";
  for (const NewEvent& e : events) {
    if (p.events_json.size() > 1) p.events_json += ',';
    p.events_json += fmt::format(
        R"({{"event_id":"{}","stream_id":{},"event_type":"{}","schema_version":{},"payload":{},"metadata":{}}})",
        e.event_id, JsonString(e.stream_id), e.type, e.schema_version, e.payload_json, MetadataJson(e.metadata));
    if (!p.ids.empty()) p.ids += ',';
    p.ids += e.event_id;
  }
  p.events_json += ']';
  return p;
}

base::Error ConflictError(const std::string& stream, const std::string& expected, std::int64_t actual) {
  return base::Error{ErrorCode::kConflict,
                     fmt::format("stream {} expected version {} but is at {}", stream, expected, actual),
                     base::VersionConflict{stream, expected, actual}};
}


// Interprets the rows of kAppend (and reads the originals of a duplicate).
base::Result<AppendResult> ParseAppendRows(pqxx::transaction_base& tx, const pqxx::result& rows,
                                           std::span<const NewEvent> events, const std::string& ids) {
  AppendResult result;
  std::map<std::string, AppendedEvent> by_id;
  for (const auto& r : rows) {
    std::string_view kind = r[0].c_str();
    if (kind == "conflict")
      return std::unexpected(
          ConflictError(r[2].c_str(), ExpectedVersion::Exactly(r[4].as<std::int64_t>()).ToString(), r[3].as<std::int64_t>()));
    if (kind == "duplicate") {
      auto n = r[3].as<std::int64_t>();
      if (n != static_cast<std::int64_t>(events.size()))
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("append: {} of the {} event ids are already recorded; a re-send must repeat the "
                                "original batch exactly",
                                n, events.size()));
      for (const auto& o : tx.exec_prepared("fs_by_event_ids", ids))
        by_id[o[0].c_str()] = AppendedEvent{o[0].c_str(), o[1].c_str(), o[2].as<std::int64_t>(), PositionOf(o[4], o[3])};
      result.duplicate = true;
      continue;
    }
    by_id[r[1].c_str()] = AppendedEvent{r[1].c_str(), r[2].c_str(), r[3].as<std::int64_t>(), PositionOf(r[5], r[4])};
  }
  for (const NewEvent& e : events) {
    auto it = by_id.find(Lower(e.event_id));  // PostgreSQL prints UUIDs in lower case
    if (it == by_id.end())
      return Fail(ErrorCode::kInternal, fmt::format("append: event {} missing from the result", e.event_id));
    result.events.push_back(it->second);
  }
  return result;
}

}  // namespace

base::Result<AppendResult> AppendInTransaction(pqxx::transaction_base& tx,
                                               std::span<const StreamExpectation> expectations,
                                               std::span<const NewEvent> events) {
  AppendParams p = BuildAppendParams(expectations, events);
  tx.exec_prepared("fs_lock_streams_shared", p.stream_ids_json);
  auto rows = tx.exec_prepared("fs_append", p.streams_json, p.events_json, true);
  return ParseAppendRows(tx, rows, events, p.ids);
}

base::Result<AppendResult> EventStore::AppendOnce(std::span<const StreamExpectation> expectations,
                                                  std::span<const NewEvent> events, bool lock_streams, bool& retry) {
  AppendParams p = BuildAppendParams(expectations, events);
  return WithConnection(pool_, "append", [&](pqxx::connection& conn) -> base::Result<AppendResult> {
    try {
      if (!lock_streams) {
        pqxx::nontransaction tx(conn);  // autocommit: the statement is its own transaction
        if (events.size() == 1) {
          const NewEvent& e = events[0];
          const ExpectedVersion& expected = p.streams.begin()->second;
          std::optional<std::int64_t> want;
          if (!expected.is_any()) want = expected.value();
          auto rows = tx.exec_prepared("fs_append_one", e.event_id, e.stream_id, e.type, e.schema_version,
                                       e.payload_json, MetadataJson(e.metadata), want);
          if (!rows.empty())
            return AppendResult{{AppendedEvent{rows[0][0].c_str(), rows[0][1].c_str(), rows[0][2].as<std::int64_t>(),
                                               PositionOf(rows[0][4], rows[0][3])}},
                                false};
          // Nothing written: kAppend below tells a conflict from a duplicate.
        }
        auto rows = tx.exec_prepared("fs_append", p.streams_json, p.events_json, false);
        if (!rows.empty() && std::string_view(rows[0][0].c_str()) == "busy") {
          retry = true;  // a retrying append holds a stream: queue behind it
          return Fail(ErrorCode::kConflict, "append: a concurrent append held the stream; try again");
        }
        return ParseAppendRows(tx, rows, events, p.ids);
      }
      // After a lost race: lock the streams first (advisory locks assign no
      // transaction id), so the append's snapshot sees every earlier writer.
      pqxx::work tx(conn);
      tx.exec_prepared("fs_lock_streams", p.stream_ids_json);
      auto result = ParseAppendRows(tx, tx.exec_prepared("fs_append", p.streams_json, p.events_json, true), events, p.ids);
      if (result) tx.commit();
      return result;
    } catch (const pqxx::unique_violation& e) {
      std::string what = e.what();
      if (what.find("events_event_id_key") == std::string::npos &&
          what.find("events_stream_version_key") == std::string::npos)
        throw;
      // A concurrent append took a version we computed (or the same event
      // ids): try again; an exact expectation that no longer holds then
      // comes back as a conflict naming the stream.
      retry = true;
      return Fail(ErrorCode::kConflict, "append: concurrent appends kept winning the race; try again");
    } catch (const pqxx::deadlock_detected&) {
      retry = true;  // nothing was committed
      return Fail(ErrorCode::kConflict, "append: deadlocked with a concurrent append; try again");
    } catch (const pqxx::data_exception& e) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("append refused: {}", e.what()));
    } catch (const pqxx::integrity_constraint_violation& e) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("append refused: {}", e.what()));
    }
  });
}

base::Result<std::vector<RecordedEvent>> EventStore::ReadStream(const std::string& stream_id,
                                                                std::int64_t from_version, Direction direction,
                                                                int limit) {
  return WithConnection(pool_, "read stream", [&](pqxx::connection& conn) -> base::Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared(direction == Direction::kForward ? "fs_read_stream_fwd" : "fs_read_stream_bwd",
                                 stream_id, from_version, limit);
    std::vector<RecordedEvent> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(ParseEventRow(r));
    return out;
  });
}

base::Result<std::map<std::string, std::vector<RecordedEvent>>> EventStore::ReadStreams(
    std::span<const std::string> stream_ids) {
  // A text[] literal: every element quoted, " and \ escaped.
  std::string array = "{";
  for (const auto& id : stream_ids) {
    array += array.size() > 1 ? ",\"" : "\"";
    for (char c : id) {
      if (c == '"' || c == '\\') array += '\\';
      array += c;
    }
    array += '"';
  }
  array += '}';
  using Streams = std::map<std::string, std::vector<RecordedEvent>>;
  return WithConnection(pool_, "read streams", [&](pqxx::connection& conn) -> base::Result<Streams> {
    pqxx::nontransaction tx(conn);
    Streams out;
    for (const auto& id : stream_ids) out[id];
    for (const auto& r : tx.exec_prepared("fs_read_streams", array)) {
      RecordedEvent e = ParseEventRow(r);
      out[e.stream_id].push_back(std::move(e));
    }
    return out;
  });
}

base::Result<std::vector<RecordedEvent>> EventStore::ReadAll(const LogPosition& after, const ReadFilter& filter,
                                                             int limit) {
  if (auto ok = ValidateFilter(filter); !ok) return std::unexpected(ok.error());
  return WithConnection(pool_, "read log", [&](pqxx::connection& conn) -> base::Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(conn);
    const std::string tx_id = std::to_string(after.tx_id);
    pqxx::result rows = filter.categories.empty()
                            ? tx.exec_prepared("fs_read_all", tx_id, after.global_position, limit, Join(filter.types))
                            : tx.exec_prepared("fs_read_categories", tx_id, after.global_position, limit,
                                               Join(filter.types), Join(filter.categories));
    std::vector<RecordedEvent> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(ParseEventRow(r));
    return out;
  });
}

base::Result<std::vector<RecordedEvent>> EventStore::ReadLast(const ReadFilter& filter, int limit) {
  if (auto ok = ValidateFilter(filter); !ok) return std::unexpected(ok.error());
  return WithConnection(pool_, "read log tail", [&](pqxx::connection& conn) -> base::Result<std::vector<RecordedEvent>> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_params(fmt::format(fmt::runtime(kReadLast), kEventColumns), limit, Join(filter.categories),
                               Join(filter.types));
    std::vector<RecordedEvent> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(ParseEventRow(r));
    return out;
  });
}

base::Result<std::int64_t> EventStore::StreamVersion(const std::string& stream_id) {
  return WithConnection(pool_, "stream version", [&](pqxx::connection& conn) -> base::Result<std::int64_t> {
    pqxx::nontransaction tx(conn);
    return tx.exec_prepared("fs_stream_version", stream_id)[0][0].as<std::int64_t>();
  });
}

base::Result<LogPosition> EventStore::Head() {
  return WithConnection(pool_, "log head", [&](pqxx::connection& conn) -> base::Result<LogPosition> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared("fs_head");
    if (rows.empty()) return LogPosition{};
    return PositionOf(rows[0][0], rows[0][1]);
  });
}

base::Result<std::int64_t> EventStore::CountAfter(const LogPosition& after) {
  return WithConnection(pool_, "count events", [&](pqxx::connection& conn) -> base::Result<std::int64_t> {
    pqxx::nontransaction tx(conn);
    return tx.exec_prepared("fs_count_after", std::to_string(after.tx_id), after.global_position)[0][0]
        .as<std::int64_t>();
  });
}

}  // namespace furrsight::events
