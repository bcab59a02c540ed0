#include "events/catalog/codec.hpp"

#include <stdexcept>
#include <vector>

#include <google/protobuf/util/json_util.h>

namespace furrsight::events {
namespace {

namespace pbutil = google::protobuf::util;

template <class M>
CatalogEntry Entry(std::string_view category, int schema_version = 1) {
  const M& prototype = M::default_instance();
  return {prototype.GetDescriptor()->name(), category, schema_version, &prototype};
}

// Adding an event: a message in proto/, a line here, a line in
// tests/fixtures/events_v1.jsonl and a row in docs/events.md.
const std::vector<CatalogEntry>& Entries() {
  static const std::vector<CatalogEntry> entries = {
      Entry<v1::JobRequested>("job"),
      Entry<v1::JobStarted>("job"),
      Entry<v1::JobLeaseRenewed>("job"),
      Entry<v1::JobProgressed>("job"),
      Entry<v1::JobCompleted>("job"),
      Entry<v1::JobFailed>("job"),
      Entry<v1::JobTimedOut>("job"),
      Entry<v1::JobRetryScheduled>("job"),
      Entry<v1::JobCancelRequested>("job"),
      Entry<v1::JobCancelled>("job"),
      Entry<v1::JobChildrenPlanned>("job"),
      Entry<v1::JobChildFinished>("job"),
      Entry<v1::ImageDownloaded>("image"),
      Entry<v1::ImageValidated>("image"),
      Entry<v1::ImageRejected>("image"),
      Entry<v1::PageCaptured>("page"),
      Entry<v1::PairCandidateFound>("page"),
      Entry<v1::PairProposed>("pair"),
      Entry<v1::PairAnalyzed>("pair"),
      Entry<v1::PairVerified>("pair"),
      Entry<v1::PairRejected>("pair"),
      Entry<v1::PairNoteAdded>("pair"),
      Entry<v1::PairBreedSet>("pair"),
      Entry<v1::PairServicesSet>("pair"),
      Entry<v1::BreedRegistered>("breed"),
      Entry<v1::ServiceRegistered>("service"),
      Entry<v1::QueriesGenerated>("queries"),
      Entry<v1::ProjectCreated>("project"),
      Entry<v1::ProjectRenamed>("project"),
      Entry<v1::ProjectArchived>("project"),
      Entry<v1::UserSeen>("user"),
      Entry<v1::ApiKeyIssued>("apikey"),
      Entry<v1::ApiKeyRevoked>("apikey"),
  };
  return entries;
}

}  // namespace

std::span<const CatalogEntry> Catalog() { return Entries(); }

const CatalogEntry* FindEvent(std::string_view type) {
  for (const CatalogEntry& entry : Entries())
    if (entry.type == type) return &entry;
  return nullptr;
}

base::Result<std::string> EncodePayload(const google::protobuf::Message& payload) {
  pbutil::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = false;
  std::string json;
  auto status = pbutil::MessageToJsonString(payload, &json, options);
  if (!status.ok())
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      "cannot encode " + payload.GetTypeName() + " as JSON: " + std::string(status.message()));
  return json;
}

base::Result<void> DecodePayloadInto(std::string_view type, std::string_view json,
                                     google::protobuf::Message& out) {
  pbutil::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // written by a newer schema
  auto status = pbutil::JsonStringToMessage(json, &out, options);
  if (!status.ok())
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      "malformed " + std::string(type) + " payload: " + std::string(status.message()));
  return {};
}

base::Result<std::unique_ptr<google::protobuf::Message>> DecodePayload(std::string_view type,
                                                                       std::string_view json) {
  const CatalogEntry* entry = FindEvent(type);
  if (entry == nullptr)
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      "unknown event type '" + std::string(type) + "': not in the catalog");
  std::unique_ptr<google::protobuf::Message> message(entry->prototype->New());
  auto r = DecodePayloadInto(type, json, *message);
  if (!r) return std::unexpected(r.error());
  return message;
}

NewEvent MakeEventFromMessage(std::string stream_id, const google::protobuf::Message& payload,
                              EventMetadata metadata, std::string event_id) {
  const std::string& type = payload.GetDescriptor()->name();
  const CatalogEntry* entry = FindEvent(type);
  if (entry == nullptr || entry->prototype->GetDescriptor() != payload.GetDescriptor())
    throw std::logic_error("MakeEvent: " + payload.GetTypeName() + " is not an event of the catalog");
  if (CategoryOf(stream_id) != entry->category)
    throw std::logic_error("MakeEvent: a " + type + " belongs in a " + std::string(entry->category) +
                           "- stream, not in " + stream_id);
  auto json = EncodePayload(payload);
  if (!json) throw std::logic_error("MakeEvent: " + json.error().message);
  NewEvent event;
  event.event_id = std::move(event_id);
  event.stream_id = std::move(stream_id);
  event.type = type;
  event.schema_version = entry->schema_version;
  event.payload_json = std::move(*json);
  event.metadata = std::move(metadata);
  return event;
}

}  // namespace furrsight::events
