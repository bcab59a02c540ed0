// Pair curation as pure functions (STYLE.md, "event sourcing the FurrSight
// way"): a pair's state folded from its stream (Evolve), and the researchers'
// commands decided against it (Decide -> the events to append, or why not).
//
// The state is everything a reader of one pair wants — status, images,
// breed, services, the latest analysis, notes — so the same fold answers
// "the pair now" and "the pair as of a past moment" (fold the events recorded
// up to then). Pure and thread-safe; no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "events/store/event.hpp"

namespace furrsight::orchestrator::curation {

inline constexpr std::size_t kMaxReasonLength = 500;
inline constexpr std::size_t kMaxNoteLength = 2000;
inline constexpr std::size_t kMaxNameLength = 100;
inline constexpr std::size_t kMaxServices = 12;

enum class PairStatus { kNone, kUnverified, kVerified, kRejected };
std::string_view PairStatusName(PairStatus status);  // "UNVERIFIED", ...

struct Note {
  std::string text, actor, at;  // at: recorded_at
};

struct PairState {
  PairStatus status = PairStatus::kNone;  // kNone: no PairProposed (yet)
  std::int64_t version = 0;               // the stream's version: If-Match / ETag
  std::string id;                         // the uuid of pair-{id}
  std::string before_sha256, after_sha256, before_url, after_url, source_url, cue;
  double similarity = 0.0;
  std::string breed;                      // display name; "" when none
  std::string breed_set_by;               // "model" | "researcher" | ""
  std::vector<std::string> services;      // display names
  std::string services_set_by;            // "model" | "researcher" | ""
  boost::json::object analysis;           // the latest PairAnalyzed payload without raw_answer; {} when none
  std::string reject_reason;
  std::vector<Note> notes;
  std::string created_at, updated_at;     // recorded_at of the first and last event

  bool exists() const { return status != PairStatus::kNone; }
  // The read shape of the API (docs/api.md): image URLs point at /api/v1/images/{sha256}.
  boost::json::object ToJson() const;
};

// Applies one event of the pair's stream (events of other types are ignored).
void Evolve(PairState& state, const events::RecordedEvent& event);
PairState Fold(const std::vector<events::RecordedEvent>& events);

// --- commands (each from a researcher; names are display names) ---
struct VerifyPair { std::string note; };
struct RejectPair { std::string reason; };
struct SetPairBreed { std::string breed; };
struct SetPairServices { std::vector<std::string> services; };
struct AddPairNote { std::string note; };
using PairCommand = std::variant<VerifyPair, RejectPair, SetPairBreed, SetPairServices, AddPairNote>;
std::string_view CommandName(const PairCommand& command);  // "verify", "reject", ...

// What a command appends to pair-{id}: the event's type and payload (JSON).
struct Decision {
  std::string type;
  boost::json::object payload;
};

// The events for `command` against `state` (empty: nothing to do, e.g.
// verifying a verified pair). kNotFound for a pair never proposed,
// kInvalidArgument naming the field for bad input. Catalog names (breed,
// services) are checked by the caller, who knows the catalog.
base::Result<std::vector<Decision>> Decide(const PairState& state, const PairCommand& command);

}  // namespace furrsight::orchestrator::curation
