// The event envelope: what is appended (NewEvent) and what is read back
// (RecordedEvent). Payloads travel as protobuf's JSON mapping (proto field
// names preserved) and are stored as JSONB, so auditors can query them with
// SQL; events/catalog/ turns them into typed protobuf messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/base/error.hpp"

namespace furrsight::events {

// Invariant 8: who, why and which request, on every event.
struct EventMetadata {
  std::string actor;           // "user:<uuid>", "apikey:<id>", "worker:<name>", "system:<component>"
  std::string correlation_id;  // the request or job run this belongs to
  std::string causation_id;    // the command or event that caused this one
  std::string source;          // the process that appended it ("api", "worker", "cli", ...)
};

struct NewEvent {
  std::string event_id;   // UUID; deterministic where a retry must not duplicate
  std::string stream_id;  // "<category>-<id>", e.g. "job-3f2a...", "pair-..."
  std::string type;       // past-tense name from the catalog, e.g. "PairVerified"
  int schema_version = 1;
  std::string payload_json;  // a JSON object
  EventMetadata metadata;
};

// The log's read order is (tx_id, global_position); a checkpoint is that pair.
struct LogPosition {
  std::uint64_t tx_id = 0;
  std::int64_t global_position = 0;

  friend auto operator<=>(const LogPosition&, const LogPosition&) = default;
};

// "<tx>.<n>": how the API, exports and the CLI show a position; and back
// ("0" is the start). `what` names the text in the error message.
std::string FormatPosition(const LogPosition& position);
base::Result<LogPosition> ParsePosition(std::string_view text, std::string_view what);

struct RecordedEvent {
  LogPosition position;
  std::string event_id;
  std::string stream_id;
  std::string category;
  std::int64_t stream_version = 0;
  std::string type;
  int schema_version = 1;
  std::string payload_json;
  std::string metadata_json;  // {"actor":..., "correlation_id":..., "causation_id":..., "source":...}
  std::string recorded_at;    // ISO 8601 with microseconds, UTC
  std::int64_t recorded_at_us = 0;  // microseconds since the Unix epoch
};

// "job-123" -> "job"
std::string CategoryOf(const std::string& stream_id);

}  // namespace furrsight::events
