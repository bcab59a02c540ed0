#include "orchestrator/curation/pair_curation.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"

namespace furrsight::orchestrator::curation {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

std::string Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::vector<std::string> Strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_array())
    for (const auto& s : v->as_array())
      if (s.is_string()) out.emplace_back(s.as_string());
  return out;
}

std::string Actor(const events::RecordedEvent& e) {
  json::error_code ec;
  auto md = json::parse(e.metadata_json, ec);
  return ec || !md.is_object() ? std::string() : Str(md.as_object(), "actor");
}

std::string ImageUrl(const std::string& sha256) { return sha256.empty() ? std::string() : "/api/v1/images/" + sha256; }

// A text field of a command: trimmed, required or not, at most `max` bytes.
base::Result<std::string> Text(std::string_view value, std::string_view field, std::size_t max, bool required) {
  std::string t = base::Trim(value);
  if (required && t.empty()) return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must not be empty", field));
  if (t.size() > max)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is {} bytes; at most {}", field, t.size(), max));
  return t;
}

base::Result<std::string> CatalogName(std::string_view value, std::string_view field) {
  auto t = Text(value, field, kMaxNameLength, true);
  if (!t) return t;
  if (base::Slug(*t).empty())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} '{}' has no letter or digit", field, *t));
  return t;
}

}  // namespace

std::string_view PairStatusName(PairStatus status) {
  switch (status) {
    case PairStatus::kNone: return "NONE";
    case PairStatus::kUnverified: return "UNVERIFIED";
    case PairStatus::kVerified: return "VERIFIED";
    case PairStatus::kRejected: return "REJECTED";
  }
  return "NONE";
}

void Evolve(PairState& s, const events::RecordedEvent& e) {
  json::error_code ec;
  auto parsed = json::parse(e.payload_json, ec);
  const json::object empty;
  const json::object& p = !ec && parsed.is_object() ? parsed.as_object() : empty;
  if (s.created_at.empty()) s.created_at = e.recorded_at;
  if (s.id.empty() && e.stream_id.starts_with("pair-")) s.id = e.stream_id.substr(5);
  s.version = e.stream_version;
  s.updated_at = e.recorded_at;
  if (e.type == "PairProposed") {
    s.status = PairStatus::kUnverified;
    s.before_sha256 = Str(p, "before_image_sha256");
    s.after_sha256 = Str(p, "after_image_sha256");
    s.before_url = Str(p, "before_image_url");
    s.after_url = Str(p, "after_image_url");
    s.source_url = Str(p, "source_url");
    s.cue = Str(p, "cue");
    if (const auto* v = p.if_contains("similarity"); v != nullptr && v->is_number()) s.similarity = v->to_number<double>();
  } else if (e.type == "PairAnalyzed") {
    s.analysis = p;
    s.analysis.erase("raw_answer");
    const auto* ok = p.if_contains("ok");
    if (ok != nullptr && ok->is_bool() && ok->as_bool()) {
      const std::string breed = Str(p, "breed");
      if (s.breed_set_by != "researcher" && !breed.empty() && breed != "unknown") {
        s.breed = breed;
        s.breed_set_by = "model";
      }
      if (s.services_set_by != "researcher") {
        s.services = Strings(p, "services");
        s.services_set_by = "model";
      }
    }
  } else if (e.type == "PairVerified") {
    s.status = PairStatus::kVerified;
    s.reject_reason.clear();
  } else if (e.type == "PairRejected") {
    s.status = PairStatus::kRejected;
    s.reject_reason = Str(p, "reason");
  } else if (e.type == "PairNoteAdded") {
    s.notes.push_back({Str(p, "note"), Actor(e), e.recorded_at});
  } else if (e.type == "PairBreedSet") {
    s.breed = Str(p, "breed");
    s.breed_set_by = "researcher";
  } else if (e.type == "PairServicesSet") {
    s.services = Strings(p, "services");
    s.services_set_by = "researcher";
  }
}

PairState Fold(const std::vector<events::RecordedEvent>& events) {
  PairState s;
  for (const auto& e : events) Evolve(s, e);
  return s;
}

json::object PairState::ToJson() const {
  json::array services_json, notes_json;
  for (const auto& x : services) services_json.emplace_back(x);
  for (const auto& n : notes) notes_json.emplace_back(json::object{{"note", n.text}, {"actor", n.actor}, {"at", n.at}});
  json::object o{{"id", id},
                 {"status", PairStatusName(status)},
                 {"version", version},
                 {"before", json::object{{"sha256", before_sha256}, {"url", ImageUrl(before_sha256)}, {"source_url", before_url}}},
                 {"after", json::object{{"sha256", after_sha256}, {"url", ImageUrl(after_sha256)}, {"source_url", after_url}}},
                 {"source_url", source_url},
                 {"cue", cue},
                 {"similarity", similarity},
                 {"breed", breed.empty() ? json::value(nullptr) : json::value(breed)},
                 {"breed_set_by", breed_set_by.empty() ? json::value(nullptr) : json::value(breed_set_by)},
                 {"services", std::move(services_json)},
                 {"services_set_by", services_set_by.empty() ? json::value(nullptr) : json::value(services_set_by)},
                 {"analysis", analysis.empty() ? json::value(nullptr) : json::value(analysis)},
                 {"reject_reason", reject_reason.empty() ? json::value(nullptr) : json::value(reject_reason)},
                 {"notes", std::move(notes_json)},
                 {"created_at", created_at},
                 {"updated_at", updated_at}};
  return o;
}

std::string_view CommandName(const PairCommand& command) {
  struct Name {
    std::string_view operator()(const VerifyPair&) const { return "verify"; }
    std::string_view operator()(const RejectPair&) const { return "reject"; }
    std::string_view operator()(const SetPairBreed&) const { return "set_breed"; }
    std::string_view operator()(const SetPairServices&) const { return "set_services"; }
    std::string_view operator()(const AddPairNote&) const { return "add_note"; }
  };
  return std::visit(Name{}, command);
}

base::Result<std::vector<Decision>> Decide(const PairState& state, const PairCommand& command) {
  if (!state.exists()) return Fail(ErrorCode::kNotFound, "no such pair (it was never proposed)");
  using Out = base::Result<std::vector<Decision>>;
  struct Visitor {
    const PairState& s;
    Out operator()(const VerifyPair& c) const {
      auto note = Text(c.note, "note", kMaxNoteLength, false);
      if (!note) return std::unexpected(note.error());
      std::vector<Decision> out;
      if (s.status != PairStatus::kVerified) out.push_back({"PairVerified", {}});
      // The note goes in its own event: one place for notes in every reader.
      if (!note->empty()) out.push_back({"PairNoteAdded", json::object{{"note", *note}}});
      return out;
    }
    Out operator()(const RejectPair& c) const {
      auto reason = Text(c.reason, "reason", kMaxReasonLength, true);
      if (!reason) return std::unexpected(reason.error());
      if (s.status == PairStatus::kRejected && s.reject_reason == *reason) return std::vector<Decision>{};
      return std::vector<Decision>{{"PairRejected", json::object{{"reason", *reason}}}};
    }
    Out operator()(const SetPairBreed& c) const {
      auto breed = CatalogName(c.breed, "breed");
      if (!breed) return std::unexpected(breed.error());
      if (s.breed_set_by == "researcher" && s.breed == *breed) return std::vector<Decision>{};
      return std::vector<Decision>{{"PairBreedSet", json::object{{"breed", *breed}, {"breed_slug", base::Slug(*breed)}}}};
    }
    Out operator()(const SetPairServices& c) const {
      if (c.services.size() > kMaxServices)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("services has {} entries; at most {}", c.services.size(), kMaxServices));
      json::array names, slugs;
      for (const auto& raw : c.services) {
        auto name = CatalogName(raw, "a service");
        if (!name) return std::unexpected(name.error());
        const std::string slug = base::Slug(*name);
        bool seen = false;
        for (const auto& x : slugs) seen = seen || x.as_string() == slug;
        if (seen) continue;
        names.emplace_back(*name);
        slugs.emplace_back(slug);
      }
      return std::vector<Decision>{
          {"PairServicesSet", json::object{{"services", std::move(names)}, {"service_slugs", std::move(slugs)}}}};
    }
    Out operator()(const AddPairNote& c) const {
      auto note = Text(c.note, "note", kMaxNoteLength, true);
      if (!note) return std::unexpected(note.error());
      return std::vector<Decision>{{"PairNoteAdded", json::object{{"note", *note}}}};
    }
  };
  return std::visit(Visitor{state}, command);
}

}  // namespace furrsight::orchestrator::curation
