#include "orchestrator/curation/curation_service.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"

namespace furrsight::orchestrator::curation {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kEventIds = "furrsight.curation";

base::Result<events::NewEvent> ToEvent(const std::string& stream, const std::string& type, const json::object& payload,
                                       const CommandContext& c, int index) {
  auto message = events::DecodePayload(type, json::serialize(payload));
  if (!message) return std::unexpected(message.error());
  return events::MakeEventFromMessage(stream, **message, {c.actor, c.correlation_id, c.causation_id, c.source},
                                      base::UuidFromName(kEventIds, fmt::format("{}/{}", c.causation_id, index)));
}

}  // namespace

base::Result<PairState> CurationService::Load(const std::string& pair_id, const projections::AsOf& as_of) {
  if (!base::IsUuid(pair_id)) return Fail(ErrorCode::kNotFound, fmt::format("'{}' is not a pair id (a UUID)", pair_id));
  auto events = store_.ReadStream("pair-" + base::Lower(pair_id));
  if (!events) return std::unexpected(events.error());
  PairState state;
  for (const auto& e : *events) {
    if (as_of.time_us && e.recorded_at_us > *as_of.time_us) break;
    if (as_of.position && e.position.global_position > *as_of.position) continue;
    Evolve(state, e);
  }
  if (!state.exists())
    return Fail(ErrorCode::kNotFound, as_of.time_us || as_of.position ? fmt::format("pair {} did not exist yet at that time", pair_id)
                                               : fmt::format("no pair {}", pair_id));
  return state;
}

base::Result<std::string> CurationService::NameOnRecord(std::string_view kind, const std::string& slug) {
  auto events = store_.ReadStream(fmt::format("{}-{}", kind, slug));
  if (!events) return std::unexpected(events.error());
  if (events->empty()) return std::string();
  json::error_code ec;
  auto p = json::parse(events->front().payload_json, ec);
  if (ec || !p.is_object() || !p.as_object().contains("name")) return std::string(slug);
  return std::string(p.as_object().at("name").as_string());
}

base::Result<PairState> CurationService::Execute(const std::string& pair_id,
                                                 std::optional<std::int64_t> expected_version,
                                                 const PairCommand& command, const CommandContext& context) {
  auto state = Load(pair_id);
  if (!state) return state;
  const std::string stream = "pair-" + state->id;
  if (expected_version && *expected_version != state->version)
    return std::unexpected(base::Error{
        ErrorCode::kConflict,
        fmt::format("pair {} is at version {}, not {}: someone changed it; reload it and decide again", pair_id,
                    state->version, *expected_version),
        base::VersionConflict{stream, std::to_string(*expected_version), state->version}});
  auto decisions = Decide(*state, command);
  if (!decisions) return std::unexpected(decisions.error());
  if (decisions->empty()) return state;

  std::vector<events::StreamExpectation> expectations{{stream, events::ExpectedVersion::Exactly(state->version)}};
  std::vector<events::NewEvent> events;
  int index = 0;
  // Catalog names: the spelling on record; a new breed is registered here.
  for (auto& d : *decisions) {
    if (d.type == "PairBreedSet") {
      const std::string slug(d.payload.at("breed_slug").as_string());
      auto recorded = NameOnRecord("breed", slug);
      if (!recorded) return std::unexpected(recorded.error());
      if (recorded->empty()) {
        json::object registered{{"name", d.payload.at("breed")}, {"slug", slug}};
        auto e = ToEvent("breed-" + slug, "BreedRegistered", registered, context, index++);
        if (!e) return std::unexpected(e.error());
        expectations.push_back({"breed-" + slug, events::ExpectedVersion::NoStream()});
        events.push_back(std::move(*e));
      } else {
        d.payload["breed"] = *recorded;
      }
    } else if (d.type == "PairServicesSet") {
      json::array names;
      for (const auto& slug : d.payload.at("service_slugs").as_array()) {
        auto recorded = NameOnRecord("service", std::string(slug.as_string()));
        if (!recorded) return std::unexpected(recorded.error());
        if (recorded->empty())
          return Fail(ErrorCode::kInvalidArgument,
                      fmt::format("unknown service '{}'; the catalog lists the services (GET /api/v1/catalog/services) "
                                  "and an admin can add one",
                                  slug.as_string()));
        names.emplace_back(*recorded);
      }
      d.payload["services"] = std::move(names);
    }
  }
  for (const auto& d : *decisions) {
    auto e = ToEvent(stream, d.type, d.payload, context, index++);
    if (!e) return std::unexpected(e.error());
    events.push_back(std::move(*e));
  }
  auto appended = store_.Append(expectations, events);
  if (!appended) {
    auto error = appended.error();
    if (error.code == ErrorCode::kConflict && error.conflict && error.conflict->stream_id == stream)
      error.message = fmt::format("pair {} changed while this {} was decided (now at version {}); reload it and decide again",
                                  pair_id, CommandName(command), error.conflict->actual);
    return std::unexpected(error);
  }
  return Load(pair_id);
}

base::Result<std::string> CurationService::AddService(const std::string& name, const std::string& description,
                                                      const CommandContext& context) {
  const std::string n = base::Trim(name), slug = base::Slug(n);
  if (slug.empty() || n.size() > kMaxNameLength)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("a service name needs a letter or digit and at most {} bytes", kMaxNameLength));
  auto e = ToEvent("service-" + slug, "ServiceRegistered",
                   json::object{{"name", n}, {"slug", slug}, {"description", base::Trim(description)}}, context, 0);
  if (!e) return std::unexpected(e.error());
  auto appended = store_.Append("service-" + slug, events::ExpectedVersion::NoStream(), std::span(&*e, 1));
  if (!appended) {
    if (appended.error().code == ErrorCode::kConflict)
      return Fail(ErrorCode::kConflict, fmt::format("the service '{}' (slug {}) exists already", n, slug));
    return std::unexpected(appended.error());
  }
  return slug;
}

}  // namespace furrsight::orchestrator::curation
