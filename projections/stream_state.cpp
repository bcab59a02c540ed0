#include "projections/stream_state.hpp"

#include "events/base/time.hpp"

#include <regex>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace furrsight::projections {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

std::string Str(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_string()) return std::string(v->as_string());
  return "";
}

void FoldPair(json::object& s, const events::RecordedEvent& e, const json::object& p) {
  if (e.type == "PairProposed") {
    s["status"] = "UNVERIFIED";
    for (const char* k : {"before_image_url", "after_image_url", "source_url", "cue", "similarity",
                          "before_image_sha256", "after_image_sha256"})
      if (const auto* v = p.if_contains(k)) s[k] = *v;
    s["created_at"] = e.recorded_at;
  } else if (e.type == "PairVerified") {
    s["status"] = "VERIFIED";
    s.erase("reject_reason");
  } else if (e.type == "PairRejected") {
    s["status"] = "REJECTED";
    s["reject_reason"] = Str(p, "reason");
  } else if (e.type == "PairNoteAdded") {
    std::string notes = Str(s, "notes");
    s["notes"] = notes.empty() ? Str(p, "note") : notes + "\n" + Str(p, "note");
  } else if (e.type == "PairBreedSet") {
    s["breed"] = Str(p, "breed");
    s["breed_set_by"] = "researcher";
  } else if (e.type == "PairServicesSet") {
    s["services"] = p.contains("services") ? p.at("services") : json::array();
    s["services_set_by"] = "researcher";
  } else if (e.type == "PairAnalyzed") {
    json::object analysis = p;
    analysis.erase("raw_answer");
    s["analysis"] = analysis;
    bool ok = p.contains("ok") && p.at("ok").is_bool() && p.at("ok").as_bool();
    if (ok && Str(s, "breed_set_by") != "researcher") {
      s["breed"] = Str(p, "breed");
      s["breed_set_by"] = "model";
    }
    if (ok && Str(s, "services_set_by") != "researcher" && p.contains("services")) s["services"] = p.at("services");
  }
}

void FoldJob(json::object& s, const events::RecordedEvent& e, const json::object& p) {
  auto copy = [&](std::initializer_list<const char*> keys) {
    for (const char* k : keys)
      if (const auto* v = p.if_contains(k)) s[k] = *v;
  };
  if (e.type == "JobRequested") {
    s["status"] = "PENDING";
    copy({"job_type", "payload", "priority", "max_attempts", "parent_job_id", "project_id", "requested_by"});
    s["created_at"] = e.recorded_at;
  } else if (e.type == "JobStarted") {
    s["status"] = "IN_PROGRESS";
    copy({"worker", "attempt", "lease_expires_at_us"});
    if (!s.contains("started_at")) s["started_at"] = e.recorded_at;
  } else if (e.type == "JobLeaseRenewed") {
    copy({"lease_expires_at_us"});
  } else if (e.type == "JobProgressed") {
    copy({"progress", "counters", "message"});
  } else if (e.type == "JobCompleted") {
    s["status"] = "COMPLETED";
    s["progress"] = 100;
    copy({"result"});
    s["completed_at"] = e.recorded_at;
  } else if (e.type == "JobFailed") {
    bool final = p.contains("final") && p.at("final").is_bool() && p.at("final").as_bool();
    s["status"] = final ? "FAILED" : "WAITING_RETRY";
    s["error_message"] = Str(p, "error");
    if (final) s["completed_at"] = e.recorded_at;
  } else if (e.type == "JobTimedOut") {
    s["status"] = "WAITING_RETRY";
    s["error_message"] = "timed out: " + Str(p, "kind");
  } else if (e.type == "JobRetryScheduled") {
    s["status"] = "WAITING_RETRY";
    copy({"not_before_us", "next_attempt"});
  } else if (e.type == "JobCancelRequested") {
    s["cancel_requested"] = true;
  } else if (e.type == "JobCancelled") {
    s["status"] = "CANCELLED";
    s["completed_at"] = e.recorded_at;
  } else if (e.type == "JobChildrenPlanned") {
    s["status"] = "WAITING_CHILDREN";
    s["total_chunks"] = p.contains("total") ? p.at("total") : json::value(0);
  } else if (e.type == "JobChildFinished") {
    const std::string status = Str(p, "status");
    const char* key = status == "COMPLETED" ? "completed_chunks" : status == "FAILED" ? "failed_chunks" : "cancelled_chunks";
    const auto* n = s.if_contains(key);
    s[key] = (n != nullptr && n->is_int64() ? n->as_int64() : 0) + 1;
  }
}

}  // namespace

base::Result<AsOf> ParseAsOf(const std::string& text) {
  // A position: "12345", or "<tx>.<n>" as the API shows positions.
  static const std::regex kPosition(R"(^(?:\d{1,18}\.)?(\d{1,18})$)");
  std::smatch m;
  if (std::regex_match(text, m, kPosition)) return AsOf{std::stoll(m[1]), std::nullopt};
  const auto time_us = base::ParseIsoTimeUs(text);
  if (!time_us)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is neither a log position (a number) nor a time like 2026-11-22T10:00:00Z", text));
  return AsOf{std::nullopt, *time_us};
}

json::object FoldStream(const std::string& stream_id, const std::vector<events::RecordedEvent>& events) {
  json::object s;
  s["stream_id"] = stream_id;
  const std::string category = events::CategoryOf(stream_id);
  for (const auto& e : events) {
    json::value parsed = json::parse(e.payload_json);
    const json::object& p = parsed.as_object();
    if (category == "pair") FoldPair(s, e, p);
    else if (category == "job") FoldJob(s, e, p);
    else
      for (const auto& [k, v] : p) s[k] = v;  // other streams: the latest value of each field
    s["version"] = e.stream_version;
    s["last_event_type"] = e.type;
    s["updated_at"] = e.recorded_at;
    s["global_position"] = e.position.global_position;
  }
  return s;
}

base::Result<json::object> StateAsOf(events::EventStore& store, const std::string& stream_id, const AsOf& as_of) {
  std::vector<events::RecordedEvent> kept;
  std::int64_t from = 1;
  for (;;) {
    auto batch = store.ReadStream(stream_id, from, events::Direction::kForward, 1000);
    if (!batch) return std::unexpected(batch.error());
    for (const auto& e : *batch) {
      // A stream's versions are in commit order, so its recorded_at and
      // positions only grow: stop at the first event past the moment.
      if ((as_of.position && e.position.global_position > *as_of.position) ||
          (as_of.time_us && e.recorded_at_us > *as_of.time_us))
        return kept.empty() ? Fail(ErrorCode::kNotFound, fmt::format("stream {} had no events by then", stream_id))
                            : base::Result<json::object>(FoldStream(stream_id, kept));
      kept.push_back(e);
    }
    if (batch->size() < 1000) break;
    from = batch->back().stream_version + 1;
  }
  if (kept.empty()) return Fail(ErrorCode::kNotFound, fmt::format("stream {} has no events", stream_id));
  return FoldStream(stream_id, kept);
}

}  // namespace furrsight::projections
