#include "events/catalog/codec.hpp"

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace furrsight::events {
namespace {

using google::protobuf::util::MessageDifferencer;

// One line of tests/fixtures/events_v1.jsonl: an event as a released version
// wrote it. The fixture only grows; it is what "old events decode forever"
// is tested against.
struct FixtureLine {
  int line = 0;
  std::string type;
  int schema_version = 0;
  std::string payload_json;
};

std::vector<FixtureLine> LoadFixture() {
  std::ifstream in(FURRSIGHT_SOURCE_DIR "/tests/fixtures/events_v1.jsonl");
  if (!in) throw std::runtime_error("cannot open tests/fixtures/events_v1.jsonl");
  std::vector<FixtureLine> lines;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.empty()) continue;
    const boost::json::object object = boost::json::parse(text).as_object();
    lines.push_back({n, std::string(object.at("type").as_string()),
                     static_cast<int>(object.at("schema_version").as_int64()),
                     boost::json::serialize(object.at("payload"))});
  }
  return lines;
}

const FixtureLine& FixtureOf(std::string_view type) {
  static const std::vector<FixtureLine> lines = LoadFixture();
  for (const FixtureLine& line : lines)
    if (line.type == type) return line;
  throw std::runtime_error("no fixture line for " + std::string(type));
}

template <class M>
M DecodeFixture() {
  RecordedEvent event;
  event.type = M::descriptor()->name();
  event.payload_json = FixtureOf(event.type).payload_json;
  auto decoded = DecodeAs<M>(event);
  if (!decoded) throw std::runtime_error(decoded.error().ToString());
  return *decoded;
}

TEST(EventCatalog, EveryCatalogTypeHasAFixtureLine) {
  std::set<std::string> fixture_types;
  for (const FixtureLine& line : LoadFixture()) fixture_types.insert(line.type);
  for (const CatalogEntry& entry : Catalog())
    EXPECT_TRUE(fixture_types.contains(std::string(entry.type)))
        << entry.type << " has no line in tests/fixtures/events_v1.jsonl";
}

TEST(EventCatalog, EveryFixtureTypeIsInTheCatalogAtNoNewerVersion) {
  std::set<std::string> seen;
  for (const FixtureLine& line : LoadFixture()) {
    EXPECT_TRUE(seen.insert(line.type).second) << "line " << line.line << ": " << line.type << " twice";
    const CatalogEntry* entry = FindEvent(line.type);
    ASSERT_NE(entry, nullptr) << "line " << line.line << ": " << line.type << " is not in the catalog";
    EXPECT_GE(line.schema_version, 1);
    EXPECT_LE(line.schema_version, entry->schema_version) << line.type;
  }
}

TEST(EventCatalog, EveryEventMessageIsInTheCatalog) {
  std::set<const google::protobuf::FileDescriptor*> files;
  for (const CatalogEntry& entry : Catalog()) files.insert(entry.prototype->GetDescriptor()->file());
  EXPECT_EQ(files.size(), 7u);  // job, image, page, pair, catalog, query, identity
  for (const google::protobuf::FileDescriptor* file : files) {
    for (int i = 0; i < file->message_type_count(); ++i) {
      const std::string& name = file->message_type(i)->name();
      EXPECT_NE(FindEvent(name), nullptr) << name << " in " << file->name() << " is not in Catalog()";
    }
  }
}

TEST(EventCatalog, EntriesAreUniqueWithValidCategories) {
  std::set<std::string_view> types;
  for (const CatalogEntry& entry : Catalog()) {
    EXPECT_TRUE(types.insert(entry.type).second) << entry.type;
    EXPECT_EQ(entry.type, entry.prototype->GetDescriptor()->name());
    EXPECT_FALSE(entry.category.empty()) << entry.type;
    EXPECT_EQ(entry.category.find('-'), std::string_view::npos) << entry.type;
    EXPECT_EQ(entry.schema_version, 1) << entry.type;
  }
  EXPECT_EQ(FindEvent("JobStarted")->category, "job");
  EXPECT_EQ(FindEvent("PairCandidateFound")->category, "page");
  EXPECT_EQ(FindEvent("ApiKeyRevoked")->category, "apikey");
}

TEST(EventCatalog, EveryFixtureLineDecodes) {
  for (const FixtureLine& line : LoadFixture()) {
    auto message = DecodePayload(line.type, line.payload_json);
    ASSERT_TRUE(message.has_value()) << "line " << line.line << ": " << message.error().ToString();
    EXPECT_EQ((*message)->GetDescriptor()->name(), line.type);
  }
}

// A typo in the fixture would otherwise be skipped as an unknown field.
TEST(EventCatalog, FixtureUsesOnlyFieldsOfTheSchema) {
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  for (const FixtureLine& line : LoadFixture()) {
    const CatalogEntry* entry = FindEvent(line.type);
    ASSERT_NE(entry, nullptr) << line.type;
    std::unique_ptr<google::protobuf::Message> message(entry->prototype->New());
    auto status = google::protobuf::util::JsonStringToMessage(line.payload_json, message.get(), strict);
    EXPECT_TRUE(status.ok()) << "line " << line.line << ": " << status.ToString();
  }
}

TEST(EventCatalog, FixtureValuesSurviveDecoding) {
  auto requested = DecodeFixture<v1::JobRequested>();
  EXPECT_EQ(requested.job_type(), "SCRAPE_URL");
  EXPECT_EQ(requested.payload().fields().at("url").string_value(), "https://groomers.example/gallery");
  EXPECT_EQ(requested.payload().fields().at("max_depth").number_value(), 2);
  EXPECT_EQ(requested.start_to_close_timeout_ms(), 1800000);

  auto started = DecodeFixture<v1::JobStarted>();
  EXPECT_EQ(started.lease_expires_at_us(), 1714560030000000);

  auto progressed = DecodeFixture<v1::JobProgressed>();
  EXPECT_EQ(progressed.counters().at("images"), 140);

  auto failed = DecodeFixture<v1::JobFailed>();
  EXPECT_TRUE(failed.retryable());
  EXPECT_FALSE(failed.final());

  auto downloaded = DecodeFixture<v1::ImageDownloaded>();
  EXPECT_EQ(downloaded.width(), 1200);
  EXPECT_EQ(downloaded.file_size(), 248133);
  EXPECT_EQ(downloaded.sha256(), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");

  auto page = DecodeFixture<v1::PageCaptured>();
  ASSERT_EQ(page.images_size(), 2);
  EXPECT_EQ(page.images(1).caption(), "Bella, after");
  EXPECT_EQ(page.images(1).position(), 4);
  EXPECT_EQ(page.links_size(), 2);

  auto proposed = DecodeFixture<v1::PairProposed>();
  EXPECT_DOUBLE_EQ(proposed.scores().at("phash"), 0.82);

  auto analyzed = DecodeFixture<v1::PairAnalyzed>();
  ASSERT_EQ(analyzed.services_size(), 3);
  EXPECT_EQ(analyzed.services(2), "nail trim");
  EXPECT_EQ(analyzed.prompt_tokens(), 1460);
  EXPECT_TRUE(analyzed.ok());

  auto issued = DecodeFixture<v1::ApiKeyIssued>();
  EXPECT_EQ(issued.role(), "viewer");
}

// Fields added to ApiKeyIssued / ApiKeyRevoked / UserSeen for authentication
// (docs/auth.md): new events carry them, the released fixture lines lack them
// and still decode (to defaults).
TEST(EventCatalog, AuthenticationFieldsRoundTripAndOldEventsDecodeWithoutThem) {
  v1::ApiKeyIssued issued;
  issued.set_key_id("3f2a9c0d1e4b5a6f");
  issued.set_prefix("fs_3f2a9c0d1e4b5a6f_");
  issued.set_key_hash(std::string(64, 'a'));
  issued.set_name("nightly export");
  issued.add_roles("researcher");
  issued.add_roles("auditor");
  issued.set_actor("cli:dana");
  auto json = EncodePayload(issued);
  ASSERT_TRUE(json.has_value());
  EXPECT_NE(json->find(R"("roles":["researcher","auditor"])"), std::string::npos) << *json;
  EXPECT_NE(json->find(R"("key_id":"3f2a9c0d1e4b5a6f")"), std::string::npos) << *json;
  auto back = DecodePayload("ApiKeyIssued", *json);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(MessageDifferencer::Equals(issued, **back));

  v1::ApiKeyRevoked revoked;
  revoked.set_key_id("3f2a9c0d1e4b5a6f");
  revoked.set_actor("cli:dana");
  revoked.set_reason("leaked");
  auto revoked_json = EncodePayload(revoked);
  ASSERT_TRUE(revoked_json.has_value());
  EXPECT_EQ(*revoked_json, R"({"reason":"leaked","key_id":"3f2a9c0d1e4b5a6f","actor":"cli:dana"})");

  auto old_issued = DecodeFixture<v1::ApiKeyIssued>();
  EXPECT_EQ(old_issued.roles_size(), 0);
  EXPECT_EQ(old_issued.key_id(), "");
  auto old_revoked = DecodeFixture<v1::ApiKeyRevoked>();
  EXPECT_EQ(old_revoked.reason(), "rotated");
  EXPECT_EQ(old_revoked.actor(), "");
  auto old_seen = DecodeFixture<v1::UserSeen>();
  EXPECT_EQ(old_seen.roles_size(), 0);
  EXPECT_EQ(old_seen.role(), "curator");
}

TEST(EventCatalog, EncodeThenDecodeRoundTripsEveryFixture) {
  for (const FixtureLine& line : LoadFixture()) {
    auto original = DecodePayload(line.type, line.payload_json);
    ASSERT_TRUE(original.has_value()) << original.error().ToString();
    auto json = EncodePayload(**original);
    ASSERT_TRUE(json.has_value()) << json.error().ToString();
    auto again = DecodePayload(line.type, *json);
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_TRUE(MessageDifferencer::Equals(**original, **again)) << line.type << ": " << *json;
  }
}

TEST(EventCatalog, EncodeKeepsFieldNamesAndLeavesDefaultsOut) {
  v1::JobFailed failed;
  failed.set_attempt(2);
  failed.set_error("boom");
  auto json = EncodePayload(failed);
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(*json, R"({"attempt":2,"error":"boom"})");

  v1::JobStarted started;
  started.set_lease_expires_at_us(1714560030000000);
  EXPECT_EQ(*EncodePayload(started), R"({"lease_expires_at_us":"1714560030000000"})");
}

TEST(EventCatalog, DecodeRejectsUnknownTypeByName) {
  auto message = DecodePayload("JobExploded", "{}");
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(message.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(message.error().message.find("JobExploded"), std::string::npos) << message.error().message;
}

TEST(EventCatalog, DecodeRejectsMalformedJson) {
  for (std::string_view json : {R"({"worker": "w",)", R"({"attempt": "two"})", "[1, 2]"}) {
    auto message = DecodePayload("JobStarted", json);
    ASSERT_FALSE(message.has_value()) << json;
    EXPECT_EQ(message.error().code, base::ErrorCode::kInvalidArgument);
    EXPECT_NE(message.error().message.find("JobStarted"), std::string::npos) << message.error().message;
    EXPECT_GT(message.error().message.size(), std::string_view("malformed JobStarted payload: ").size())
        << "protobuf's reason is missing: " << message.error().message;
  }
}

TEST(EventCatalog, DecodeIgnoresFieldsItDoesNotKnow) {
  RecordedEvent event;
  event.type = "JobStarted";
  event.payload_json =
      R"({"worker":"w-7","attempt":3,"added_in_v2":{"nested":[1,2]},"also_new":"x","lease_ms":"1000"})";
  auto started = DecodeAs<v1::JobStarted>(event);
  ASSERT_TRUE(started.has_value()) << started.error().ToString();
  EXPECT_EQ(started->worker(), "w-7");
  EXPECT_EQ(started->attempt(), 3);
  EXPECT_EQ(started->lease_ms(), 1000);
}

TEST(EventCatalog, DecodeAsRejectsAnEventOfAnotherType) {
  RecordedEvent event;
  event.event_id = "e-1";
  event.type = "JobCompleted";
  event.payload_json = "{}";
  auto started = DecodeAs<v1::JobStarted>(event);
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(started.error().message.find("JobCompleted"), std::string::npos);
}

TEST(EventCatalog, MakeEventSetsTypeVersionAndPayload) {
  v1::PairBreedSet payload;
  payload.set_breed("Shih Tzu");
  payload.set_breed_slug("shih-tzu");
  EventMetadata md{"user:u-1", "req-1", "cmd-1", "api"};
  NewEvent event = MakeEvent("pair-42", payload, md, "ev-1");
  EXPECT_EQ(event.type, "PairBreedSet");
  EXPECT_EQ(event.schema_version, 1);
  EXPECT_EQ(event.stream_id, "pair-42");
  EXPECT_EQ(event.event_id, "ev-1");
  EXPECT_EQ(event.metadata.correlation_id, "req-1");
  EXPECT_EQ(event.payload_json, R"({"breed":"Shih Tzu","breed_slug":"shih-tzu"})");
}

TEST(EventCatalog, MakeEventRefusesAStreamOfAnotherCategory) {
  EXPECT_THROW(MakeEvent("job-42", v1::PairVerified{}, EventMetadata{}, "ev-1"), std::logic_error);
  EXPECT_THROW(MakeEvent("pair-1", v1::EventEnvelope{}, EventMetadata{}, "ev-1"), std::logic_error);
}

TEST(CategoryOf, IsTheTextBeforeTheFirstDash) {
  EXPECT_EQ(CategoryOf("job-3f2a9c4e-1b7d-4e8a-9c0f-5d6e7a8b9c0d"), "job");
  EXPECT_EQ(CategoryOf("apikey-7"), "apikey");
  EXPECT_EQ(CategoryOf("nodash"), "nodash");
  EXPECT_EQ(CategoryOf(""), "");
}

}  // namespace
}  // namespace furrsight::events
