// API keys and users seen against the real PostgreSQL: issue -> authenticate
// -> revoke -> refused once the directory cache's TTL has passed; only the
// hash of a secret is ever stored; the apikeys CLI through the real binary;
// UserSeen throttled and landing in PixCrawler's profiles.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "events/base/sha256.hpp"
#include "orchestrator/api/auth/api_key.hpp"
#include "orchestrator/api/auth/api_key_directory.hpp"
#include "orchestrator/api/auth/api_key_service.hpp"
#include "orchestrator/api/auth/authenticator.hpp"
#include "orchestrator/api/auth/user_seen_recorder.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/pixcrawler/pixcrawler_projection.hpp"
#include "projections/projector.hpp"
#include "tests/support/projection_fixture.hpp"

namespace furrsight::api::auth {
namespace {

using std::chrono::seconds;

class ApiAuthPgTest : public testing::ProjectionTest {
 protected:
  std::string Label() const override { return "api_auth"; }

  void CatchUp(const projections::Projection& projection) {
    WaitReadable();
    const projections::Generation live = Live(projection);
    projections::Projector projector(db_->AdminUrl(), *store_, nullptr, projection);
    auto applied = projector.CatchUp(live.generation);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
  }

  long long Count(const std::string& sql) { return Query(sql, true)[0][0].as<long long>(); }

  // The secret must be nowhere: not in any event, not in any read-model row.
  void ExpectStoredNowhere(const std::string& secret) {
    pqxx::connection conn(db_->AdminUrl());
    pqxx::read_transaction tx(conn);
    EXPECT_EQ(tx.exec_params("SELECT count(*) FROM events WHERE strpos(payload::text, $1) > 0 OR strpos(metadata::text, $1) > 0",
                             secret)[0][0].as<long long>(), 0);
    EXPECT_EQ(tx.exec_params("SELECT count(*) FROM api_keys k WHERE strpos(row_to_json(k)::text, $1) > 0", secret)[0][0]
                  .as<long long>(), 0);
  }

  projections::FurrSightProjection furrsight_;
  projections::PixCrawlerProjection pixcrawler_;
  const events::EventMetadata admin_{"user:00000000-0000-4000-8000-00000000ad01", "corr-1", "cmd-1", "test"};
};

TEST_F(ApiAuthPgTest, IssuedKeyAuthenticatesUntilRevokedThenIsRefusedAfterTheCacheTtl) {
  ApiKeyService service(*store_);
  auto issued = service.Issue({"nightly export", {"auditor", "researcher"}, ""}, admin_);
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  EXPECT_EQ(issued->roles, (std::vector<std::string>{"researcher", "auditor"}));
  CatchUp(furrsight_);

  PgApiKeyDirectory pg(*pool_);
  auto now = std::chrono::steady_clock::now();
  CachingApiKeyDirectory cache(pg, {.ttl = seconds(5), .miss_ttl = seconds(1), .clock = [&] { return now; }});
  Authenticator auth(AuthSettings{}, nullptr, &cache, nullptr);

  auto p = auth.Authenticate("", issued->key);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->subject, issued->key_id);
  EXPECT_EQ(p->roles, (std::vector<std::string>{"researcher", "auditor"}));
  EXPECT_EQ(p->actor, "apikey:" + issued->key_id);

  ASSERT_TRUE(service.Revoke(issued->key_id, "leaked in a CI log", admin_).has_value());
  CatchUp(furrsight_);
  EXPECT_TRUE(auth.Authenticate("", issued->key).has_value()) << "still cached: a revoke takes up to the TTL";
  now += seconds(5);
  auto refused = auth.Authenticate("", issued->key);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("was revoked"), std::string::npos) << refused.error().message;

  auto row = Query("SELECT name, array_to_string(roles, ','), issued_by, revoked_by, revoke_reason, key_hash, prefix "
                   "FROM api_keys WHERE key_id = '" + issued->key_id + "'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].as<std::string>(), "nightly export");
  EXPECT_EQ(row[0][1].as<std::string>(), "researcher,auditor");
  EXPECT_EQ(row[0][2].as<std::string>(), admin_.actor);
  EXPECT_EQ(row[0][3].as<std::string>(), admin_.actor);
  EXPECT_EQ(row[0][4].as<std::string>(), "leaked in a CI log");
  const std::string secret = ParseApiKey(issued->key)->secret;
  EXPECT_EQ(row[0][5].as<std::string>(), base::Sha256Hex(secret));
  EXPECT_EQ(row[0][6].as<std::string>(), "fs_" + issued->key_id + "_");
  ExpectStoredNowhere(secret);
  ExpectStoredNowhere(issued->key);
}

// A key issued with an expiry works until then and is refused from then on,
// exactly (the cache keeps the record, the expiry is judged per request);
// an expiry in the past is refused at issue.
TEST_F(ApiAuthPgTest, AKeyWithAnExpiryIsRefusedFromThatMomentOn) {
  using std::chrono::system_clock;
  const auto issued_at = system_clock::now();
  const auto expires = issued_at + std::chrono::hours(1);
  const auto us = [](system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  ApiKeyService service(*store_);
  auto issued = service.Issue({"one-hour key", {"researcher"}, "", us(expires)}, admin_);
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  CatchUp(furrsight_);
  EXPECT_EQ(Count("SELECT (extract(epoch FROM expires_at) * 1000000)::bigint FROM api_keys WHERE key_id = '" +
                  issued->key_id + "'"),
            us(expires));

  PgApiKeyDirectory pg(*pool_);
  CachingApiKeyDirectory cache(pg);
  system_clock::time_point now = issued_at;
  AuthSettings settings;
  settings.clock = [&] { return now; };
  Authenticator auth(settings, nullptr, &cache, nullptr);
  EXPECT_TRUE(auth.Authenticate("", issued->key).has_value());
  now = expires - std::chrono::seconds(1);
  EXPECT_TRUE(auth.Authenticate("", issued->key).has_value()) << "a second before its expiry";
  now = expires;
  auto refused = auth.Authenticate("", issued->key);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("expired at"), std::string::npos) << refused.error().message;

  auto never = service.Issue({"no expiry", {"researcher"}, ""}, admin_);
  ASSERT_TRUE(never.has_value());
  CatchUp(furrsight_);
  now = issued_at + std::chrono::hours(24 * 365 * 10);
  EXPECT_TRUE(auth.Authenticate("", never->key).has_value()) << "a key without an expiry never expires";

  auto past = service.Issue({"born expired", {"researcher"}, "", us(issued_at - std::chrono::seconds(1))}, admin_);
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().code, base::ErrorCode::kInvalidArgument);
}

TEST_F(ApiAuthPgTest, RevokeRefusesUnknownAndAlreadyRevokedKeys) {
  ApiKeyService service(*store_);
  auto issued = service.Issue({"bot", {"operator"}, ""}, admin_);
  ASSERT_TRUE(issued.has_value());
  ASSERT_TRUE(service.Revoke(issued->key_id, "", admin_).has_value());
  auto again = service.Revoke(issued->key_id, "", admin_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, base::ErrorCode::kFailedPrecondition);
  auto unknown = service.Revoke("0123456789abcdef", "", admin_);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, base::ErrorCode::kNotFound);
  EXPECT_EQ(service.Revoke("not-an-id", "", admin_).error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_EQ(service.Issue({"", {"admin"}, ""}, admin_).error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_EQ(service.Issue({"x", {"curator"}, ""}, admin_).error().code, base::ErrorCode::kInvalidArgument);
}

TEST_F(ApiAuthPgTest, AnUnknownKeyIdIsRefusedByThePgDirectory) {
  CatchUp(furrsight_);
  PgApiKeyDirectory pg(*pool_);
  Authenticator auth(AuthSettings{}, nullptr, &pg, nullptr);
  auto r = auth.Authenticate("ApiKey " + GenerateApiKey().key, "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument) << r.error().message;
  EXPECT_NE(r.error().message.find("unknown API key"), std::string::npos) << r.error().message;
}

TEST_F(ApiAuthPgTest, UsersSeenAreAppendedAtMostOncePerHourAndFillProfiles) {
  auto now = std::chrono::steady_clock::now();
  EventStoreUserSeenRecorder recorder(*store_, {.clock = [&] { return now; }});
  const SeenUser dana{"https://idp.test/", "auth0|dana", "dana@furrsight.test", "Dana Okafor", "", {"researcher", "admin"}};
  for (int i = 0; i < 5; ++i) recorder.Seen(dana);
  EXPECT_EQ(recorder.appended(), 1);
  now += seconds(3599);
  recorder.Seen(dana);
  EXPECT_EQ(recorder.appended(), 1);
  now += seconds(1);
  recorder.Seen(dana);
  EXPECT_EQ(recorder.appended(), 2);
  recorder.Seen({"https://idp.test/", "auth0|eli", "eli@furrsight.test", "", "", {}});
  EXPECT_EQ(recorder.appended(), 3);

  const std::string id = UserIdFor("https://idp.test/", "auth0|dana");
  auto stream = store_->ReadStream("user-" + id);
  ASSERT_TRUE(stream.has_value());
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_NE(stream->front().metadata_json.find("user:" + id), std::string::npos);

  CatchUp(pixcrawler_);
  auto row = Query("SELECT email, full_name, role, subject, issuer FROM profiles WHERE id = '" + id + "'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0].as<std::string>(), "dana@furrsight.test");
  EXPECT_EQ(row[0][1].as<std::string>(), "Dana Okafor");
  EXPECT_EQ(row[0][2].as<std::string>(), "admin");
  EXPECT_EQ(row[0][3].as<std::string>(), "auth0|dana");
  EXPECT_EQ(row[0][4].as<std::string>(), "https://idp.test/");
}

TEST_F(ApiAuthPgTest, CliIssuesListsAndRevokesKeys) {
  Live(furrsight_);  // the views exist, as after `furrsight migrate` and a projector start
  auto [code, out] = Cli({"apikeys", "issue", "--name", "ci bot", "--roles", "researcher,admin"});
  ASSERT_EQ(code, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("fs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})"))) << out;
  const std::string key = m[0], key_id = m[1], secret = m[2];
  EXPECT_NE(out.find("curl -H 'X-API-Key: " + key + "'"), std::string::npos) << out;

  CatchUp(furrsight_);
  auto [list_code, list] = Cli({"apikeys", "list"});
  ASSERT_EQ(list_code, 0) << list;
  EXPECT_NE(list.find(key_id), std::string::npos) << list;
  EXPECT_NE(list.find("researcher,admin"), std::string::npos) << list;
  EXPECT_NE(list.find("active"), std::string::npos) << list;
  EXPECT_EQ(list.find(secret), std::string::npos) << "list never shows a secret";

  auto [revoke_code, revoke_out] = Cli({"apikeys", "revoke", key_id, "--reason", "rotated"});
  ASSERT_EQ(revoke_code, 0) << revoke_out;
  CatchUp(furrsight_);
  auto [list2_code, list2] = Cli({"apikeys", "list"});
  ASSERT_EQ(list2_code, 0) << list2;
  EXPECT_NE(list2.find("revoked"), std::string::npos) << list2;

  EXPECT_EQ(Cli({"apikeys", "revoke", key_id}).first, 1) << "already revoked";
  auto [short_code, short_out] = Cli({"apikeys", "issue", "--name", "a day", "--roles", "researcher", "--expires-in", "1d"});
  ASSERT_EQ(short_code, 0) << short_out;
  EXPECT_NE(short_out.find("expires in 1d"), std::string::npos) << short_out;
  ASSERT_TRUE(std::regex_search(short_out, m, std::regex("fs_([0-9a-f]{16})_"))) << short_out;
  const std::string short_id = m[1];
  CatchUp(furrsight_);
  auto [list3_code, list3] = Cli({"apikeys", "list"});
  ASSERT_EQ(list3_code, 0) << list3;
  const auto line_at = list3.find(short_id);
  ASSERT_NE(line_at, std::string::npos) << list3;
  const std::string line = list3.substr(line_at, list3.find('\n', line_at) - line_at);
  EXPECT_NE(line.find("active"), std::string::npos) << line;
  EXPECT_EQ(line.find("never"), std::string::npos) << "it has an expiry: " << line;
  for (const std::string bad : {"soon", "0d", "12", "5w", "-1h"})
    EXPECT_EQ(Cli({"apikeys", "issue", "--name", "x", "--roles", "researcher", "--expires-in", bad}).first, 2) << bad;
  EXPECT_EQ(Cli({"apikeys", "issue", "--name", "x", "--roles", "curator"}).first, 2);
  EXPECT_EQ(Cli({"apikeys", "issue", "--roles", "admin"}).first, 2);
  ExpectStoredNowhere(secret);
}

}  // namespace
}  // namespace furrsight::api::auth
