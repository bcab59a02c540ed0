// The event catalog and its codec: every event type FurrSight records (the
// messages of events/catalog/proto/furrsight/events/v1/), and the conversion
// between those protobuf messages and the JSON payloads the store keeps.
//
//   auto event = MakeEvent("pair-" + id, v1::PairVerified{}, md, base::NewUuid());
//   auto verified = DecodeAs<v1::PairVerified>(recorded);
//
// Payload JSON is protobuf's JSON mapping with the proto field names kept and
// default-valued fields left out. Decoding ignores fields it does not know,
// so a reader older than the writer still decodes what it knows.
// Everything here is stateless and thread-safe. docs/events.md is the catalog
// in prose.
#pragma once

#include <concepts>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <furrsight/events/v1/catalog.pb.h>  // generated from proto/ (see CMakeLists.txt)
#include <furrsight/events/v1/envelope.pb.h>
#include <furrsight/events/v1/identity.pb.h>
#include <furrsight/events/v1/image.pb.h>
#include <furrsight/events/v1/job.pb.h>
#include <furrsight/events/v1/page.pb.h>
#include <furrsight/events/v1/pair.pb.h>
#include <furrsight/events/v1/query.pb.h>
#include <google/protobuf/message.h>

#include "events/base/error.hpp"
#include "events/store/event.hpp"

namespace furrsight::events {

struct CatalogEntry {
  std::string_view type;      // the message name, e.g. "JobStarted"
  std::string_view category;  // the stream category, e.g. "job"
  int schema_version = 1;     // the version new events are written with
  const google::protobuf::Message* prototype = nullptr;  // default instance
};

// Every event type, in the order of docs/events.md.
std::span<const CatalogEntry> Catalog();

// The entry for `type`, or nullptr when the catalog has no such event.
const CatalogEntry* FindEvent(std::string_view type);

// The message as a JSON object (proto field names, defaults left out).
base::Result<std::string> EncodePayload(const google::protobuf::Message& payload);

// The JSON payload of an event of `type` as its message. kInvalidArgument
// when the type is not in the catalog or the JSON does not parse as it.
base::Result<std::unique_ptr<google::protobuf::Message>> DecodePayload(std::string_view type,
                                                                       std::string_view json);

// Parses `json` into `out`, which must be of the catalog type `type`.
base::Result<void> DecodePayloadInto(std::string_view type, std::string_view json,
                                     google::protobuf::Message& out);

// The event's payload as M; kInvalidArgument when the event is of another type.
template <class M>
  requires std::derived_from<M, google::protobuf::Message>
base::Result<M> DecodeAs(const RecordedEvent& event) {
  const std::string& want = M::descriptor()->name();
  if (event.type != want)
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      "event " + event.event_id + " is a " + event.type + ", not a " + want);
  M out;
  auto r = DecodePayloadInto(event.type, event.payload_json, out);
  if (!r) return std::unexpected(r.error());
  return out;
}

// A NewEvent carrying `payload`, its type and schema version from the catalog.
// M must be a catalog event, the stream of its category, and the payload must
// encode (a non-finite double in a Struct does not); any of these failing is a
// bug and throws std::logic_error.
NewEvent MakeEventFromMessage(std::string stream_id, const google::protobuf::Message& payload,
                              EventMetadata metadata, std::string event_id);

template <class M>
  requires std::derived_from<M, google::protobuf::Message>
NewEvent MakeEvent(std::string stream_id, const M& payload, EventMetadata metadata,
                   std::string event_id) {
  return MakeEventFromMessage(std::move(stream_id), payload, std::move(metadata), std::move(event_id));
}

}  // namespace furrsight::events
