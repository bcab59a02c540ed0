// Reading a job's payload (already checked against its type's schema by
// orchestrator/jobs/job_types) and stamping the events a handler appends.
// Header-only; pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "events/store/event.hpp"
#include "workers/runtime/job_handler.hpp"

namespace furrsight::workers {

// payload[key] as a string; `fallback` when missing or not a string.
inline std::string StringOr(const boost::json::object& p, std::string_view key, std::string_view fallback = {}) {
  const auto* v = p.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string(fallback);
}

// payload[key]'s string items, in order (other items skipped).
inline std::vector<std::string> Strings(const boost::json::object& p, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* v = p.if_contains(key); v != nullptr && v->is_array())
    for (const auto& item : v->as_array())
      if (item.is_string()) out.emplace_back(item.as_string());
  return out;
}

// payload[key] as a whole number; `fallback` when missing or not a number.
inline std::int64_t IntOr(const boost::json::object& p, std::string_view key, std::int64_t fallback) {
  const auto* v = p.if_contains(key);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->as_double());
  return fallback;
}

inline bool BoolOr(const boost::json::object& p, std::string_view key, bool fallback) {
  const auto* v = p.if_contains(key);
  return v != nullptr && v->is_bool() ? v->as_bool() : fallback;
}

// The metadata of an event the running attempt appends (actor "worker:<name>").
inline events::EventMetadata MetadataOf(const JobContext& context) {
  const auto& c = context.command_context();
  return {c.actor, c.correlation_id, c.causation_id, c.source};
}

}  // namespace furrsight::workers
