// Time travel for one stream: its state as of a moment of the log, by
// replaying its events up to a time or a log position. A pure fold per
// stream category (pair, job; other streams merge their payloads), used by
// `furrsight events state` and the API's ?as_of=.
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::projections {

struct AsOf {
  std::optional<std::int64_t> position;  // include events at or before this global position
  std::optional<std::int64_t> time_us;   // include events recorded at or before this instant
};

// Parses "12345" (a position) or an ISO 8601 time ("2026-11-22T10:00:00Z",
// fractional seconds and offsets allowed).
base::Result<AsOf> ParseAsOf(const std::string& text);

// Folds events (in stream order) into the stream's state document.
boost::json::object FoldStream(const std::string& stream_id, const std::vector<events::RecordedEvent>& events);

// Reads the stream and folds what happened up to `as_of`. kNotFound if the
// stream had no event by then.
base::Result<boost::json::object> StateAsOf(events::EventStore& store, const std::string& stream_id, const AsOf& as_of);

}  // namespace furrsight::projections
