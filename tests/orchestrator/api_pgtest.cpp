// The REST API end to end: a real ApiServer (Beast, on a free loopback port)
// over the harness's PostgreSQL and Redis, a real projector process, API keys
// issued through the event log, JWTs from a stand-in identity provider on
// loopback, and a libcurl client. Every endpoint's happy path, the route
// table's authentication and roles, conflicts, bad input and a barrage of
// malformed requests.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "events/base/uuid.hpp"
#include "orchestrator/api/api_server.hpp"
#include "orchestrator/api/auth/api_key_service.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/process_fixture.hpp"
#include "tests/support/test_identity_provider.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
using testing::ApiClient;
using testing::ApiReply;

class ApiTest : public testing::ProcessTest {
 protected:
  std::string Label() const override { return "api"; }

  void SetUp() override {
    ProcessTest::SetUp();
    blob_dir_ = testing::Services().dir / (db_->name() + "-blobs");
    projector_ = std::make_unique<ChildProcess>(StartProjector(""));
    for (const std::string role : {"researcher", "auditor", "operator", "admin"}) {
      auth::ApiKeyService keys(*store_);
      auto issued = keys.Issue({.name = "test " + role, .roles = {role}}, {"test:setup", "setup", "setup", "test"});
      ASSERT_TRUE(issued) << issued.error().message;
      keys_[role] = issued->key;
    }
    idp_.Publish(idp_key_);
    config_ = base::Config::WithOverrides({{"database_url", db_->ServiceUrl()},
                                           {"admin_database_url", db_->AdminUrl()},
                                           {"redis_url", db_->RedisUrl()},
                                           {"redis_channel_prefix", db_->ChannelPrefix()},
                                           {"poll_interval_ms", "100"},
                                           {"blob_store", "file"},
                                           {"blob_dir", blob_dir_.string()},
                                           {"api_port", "0"},
                                           {"api_read_timeout_ms", "2000"},
                                           {"api_live_recheck_ms", "300"},
                                           // A loaded machine's projector may take longer than the default 2 s.
                                           {"api_read_model_wait_ms", "30000"},
                                           {"oidc_issuer", testing::TestIdentityProvider::kIssuer},
                                           {"oidc_audience", testing::TestIdentityProvider::kAudience},
                                           {"oidc_discovery_url", idp_.DiscoveryUrl()}});
    auto server = ApiServer::Start(config_);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    client_ = std::make_unique<ApiClient>(fmt::format("http://127.0.0.1:{}", server_->port()));
    As("admin");
    WaitFor("the api key projection", [&] { return Get("/api/v1/breeds").status == 200; });
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    projector_.reset();
    ProcessTest::TearDown();
  }

  void As(const std::string& role) {
    client_->ClearDefaultHeaders();
    if (!role.empty()) client_->SetDefaultHeader("X-API-Key", keys_.at(role));
  }

  ApiReply Get(const std::string& path) { return client_->Get(path); }

  // A cache write may time out on a loaded machine (the cache gives Redis
  // 100 ms and then reads uncached): read again until an answer is a hit.
  ApiReply GetUntilCached(const std::string& path) {
    ApiReply r;
    for (int i = 0; i < 50; ++i) {
      r = Get(path);
      if (r.Header("X-FurrSight-Cache") == "hit") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a timed-out cache rests 1 s
    }
    return r;
  }

  // 60 s: a projector shares two cores with another test suite in CI.
  void WaitFor(const std::string& what, const std::function<bool()>& done) {
    for (int i = 0; i < 1200; ++i) {
      if (done()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << what << " did not happen within 60 s";
  }

  void Append(const std::string& stream, const std::string& type, const std::string& payload) {
    auto e = testing::TestEvent(stream, type, payload);
    auto r = store_->Append(stream, events::ExpectedVersion::Any(), std::span(&e, 1));
    ASSERT_TRUE(r) << r.error().message;
  }

  // A proposed pair whose images are in the blob store; returns its id.
  std::string ProposePair(int i) {
    auto blobs = workers::MakeBlobStore(config_);
    EXPECT_TRUE(blobs);
    auto before = (*blobs)->PutContent(fmt::format("before image {}", i), "image/jpeg");
    auto after = (*blobs)->PutContent(fmt::format("after image {}", i), "image/jpeg");
    EXPECT_TRUE(before && after);
    const std::string id = base::NewUuid();
    Append("pair-" + id, "PairProposed",
           fmt::format(R"({{"before_image_sha256":"{}","after_image_sha256":"{}","before_image_url":"https://g.example/b{}.jpg",)"
                       R"("after_image_url":"https://g.example/a{}.jpg","source_url":"https://g.example/p{}","cue":"alt","similarity":0.8}})",
                       before->sha256, after->sha256, i, i, i));
    return id;
  }

  void WaitForPairs(std::size_t n) {
    WaitFor(fmt::format("{} pairs in the list", n), [&] {
      auto r = Get("/api/v1/pairs?limit=200");
      return r.status == 200 && r.Json().at("items").as_array().size() >= n;
    });
  }

  std::filesystem::path blob_dir_;
  std::unique_ptr<ChildProcess> projector_;
  std::map<std::string, std::string> keys_;
  testing::TestIdentityProvider idp_;
  testing::TestSigningKey idp_key_ = testing::TestSigningKey::Rsa("k1");
  base::Config config_ = base::Config::WithOverrides({});
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<ApiClient> client_;
};

TEST_F(ApiTest, PairsListDetailHistoryAndAsOf) {
  const std::string a = ProposePair(1), b = ProposePair(2);
  WaitForPairs(2);
  As("researcher");
  auto list = Get("/api/v1/pairs");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Json().at("items").as_array().size(), 2u);
  EXPECT_TRUE(list.Json().at("next_cursor").is_null());

  auto one = Get("/api/v1/pairs/" + a);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.Header("ETag"), "\"1\"");
  EXPECT_EQ(one.Json().at("status").as_string(), "UNVERIFIED");

  auto history = Get("/api/v1/pairs/" + a + "/events");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.Json().at("events").as_array().at(0).at("type").as_string(), "PairProposed");

  // as_of the first event's position: the state then, though it changed since.
  const std::string position(history.Json().at("events").as_array().at(0).at("global_position").is_int64()
                                 ? std::to_string(history.Json().at("events").as_array().at(0).at("global_position").as_int64())
                                 : "");
  auto verified = client_->Post("/api/v1/pairs/" + a + "/verify", json::object{}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(verified.status, 200) << verified.body;
  auto then = Get("/api/v1/pairs/" + a + "?as_of=" + position);
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(then.Json().at("status").as_string(), "UNVERIFIED");
  // The same moment named the way the API shows positions ("<tx>.<n>").
  const std::string shown(history.Json().at("events").as_array().at(0).at("position").as_string());
  EXPECT_EQ(Get("/api/v1/pairs/" + a + "?as_of=" + shown).Json().at("status").as_string(), "UNVERIFIED");
  EXPECT_EQ(Get("/api/v1/pairs/" + a).Json().at("status").as_string(), "VERIFIED");
  EXPECT_EQ(Get("/api/v1/pairs/" + base::NewUuid()).status, 404);
}

TEST_F(ApiTest, CurationCommandsTakeTheVersionAndAVerifyShowsOnTheNextRead) {
  const std::string id = ProposePair(3);
  WaitForPairs(1);
  As("admin");
  ASSERT_EQ(client_->Post("/api/v1/services", json::object{{"name", "Full groom"}}).status, 201);
  As("researcher");
  auto v = client_->Post("/api/v1/pairs/" + id + "/verify", json::object{{"note", "crisp"}}, {{"If-Match", "\"1\""}});
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.Header("X-FurrSight-Read-Model"), "") << "the list showed the verify before the answer";
  const std::string etag = v.Header("ETag");
  EXPECT_EQ(etag, "\"3\"") << "PairVerified + PairNoteAdded";
  // The very next read of the list shows it.
  auto verified = Get("/api/v1/pairs?status=VERIFIED");
  ASSERT_EQ(verified.status, 200);
  ASSERT_EQ(verified.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(verified.Json().at("items").as_array()[0].at("id").as_string(), id);

  // A stale version is a 409 naming the actual one, and changes nothing.
  auto stale = client_->Send("PUT", "/api/v1/pairs/" + id + "/breed", R"({"breed":"Poodle"})", {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.Json().at("code").as_string(), "conflict");
  EXPECT_EQ(stale.Header("Content-Type"), "application/problem+json");
  auto missing = client_->Send("PUT", "/api/v1/pairs/" + id + "/breed", R"({"breed":"Poodle"})");
  EXPECT_EQ(missing.status, 428) << missing.body;

  auto breed = client_->Send("PUT", "/api/v1/pairs/" + id + "/breed", R"({"breed":"Poodle"})", {{"If-Match", etag}});
  ASSERT_EQ(breed.status, 200) << breed.body;
  auto services = client_->Send("PUT", "/api/v1/pairs/" + id + "/services", R"({"services":["full groom"]})",
                                {{"If-Match", breed.Header("ETag")}});
  ASSERT_EQ(services.status, 200) << services.body;
  auto note = client_->Post("/api/v1/pairs/" + id + "/notes", json::object{{"note", "ears trimmed"}},
                            {{"If-Match", services.Header("ETag")}});
  ASSERT_EQ(note.status, 200) << note.body;
  auto reject = client_->Post("/api/v1/pairs/" + id + "/reject", json::object{{"reason", "same photo twice"}},
                              {{"If-Match", note.Header("ETag")}});
  ASSERT_EQ(reject.status, 200) << reject.body;
  const auto pair = Get("/api/v1/pairs/" + id).Json();
  EXPECT_EQ(pair.at("status").as_string(), "REJECTED");
  EXPECT_EQ(pair.at("breed").as_string(), "Poodle");
  auto by_breed = Get("/api/v1/pairs?breed=poodle&status=REJECTED");
  EXPECT_EQ(by_breed.Json().at("items").as_array().size(), 1u) << by_breed.body;
  auto breeds = Get("/api/v1/breeds");
  ASSERT_EQ(breeds.status, 200);
  EXPECT_EQ(breeds.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/services").Json().at("items").as_array().size(), 1u);
  // Researchers may not add services.
  EXPECT_EQ(client_->Post("/api/v1/services", json::object{{"name", "Bath"}}).status, 403);
}

TEST_F(ApiTest, HotReadsAreCachedAndAVerifyChangesTheKey) {
  const std::string id = ProposePair(9);
  WaitForPairs(1);
  As("researcher");
  EXPECT_EQ(Get("/api/v1/pairs?limit=7").Header("X-FurrSight-Cache"), "");
  auto cached = GetUntilCached("/api/v1/pairs?limit=7");
  EXPECT_EQ(cached.Header("X-FurrSight-Cache"), "hit");
  EXPECT_EQ(cached.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/pairs/" + id).Header("X-FurrSight-Cache"), "");
  auto one = GetUntilCached("/api/v1/pairs/" + id);
  EXPECT_EQ(one.Header("X-FurrSight-Cache"), "hit");
  EXPECT_EQ(one.Header("ETag"), "\"1\"");
  ASSERT_EQ(client_->Post("/api/v1/pairs/" + id + "/verify", json::object{}, {{"If-Match", "\"1\""}}).status, 200);
  auto after = Get("/api/v1/pairs?limit=7");
  EXPECT_EQ(after.Header("X-FurrSight-Cache"), "") << "a new event is a new key";
  EXPECT_EQ(after.Json().at("items").as_array()[0].at("status").as_string(), "VERIFIED");
  EXPECT_EQ(Get("/api/v1/pairs/" + id).Json().at("status").as_string(), "VERIFIED");
  As("operator");
  const auto metrics = Get("/metrics").body;
  std::smatch hits;
  ASSERT_TRUE(std::regex_search(metrics, hits, std::regex(R"(furrsight_api_cache_lookups\{result="hit"\} (\d+))")))
      << metrics;
  EXPECT_GE(std::stoi(hits[1]), 2) << "the two hits above (and any while waiting for the pairs)";
}

TEST_F(ApiTest, WithRedisUnreachableTheApiStillAnswersUncached) {
  const std::string id = ProposePair(10);
  WaitForPairs(1);
  auto config = config_.Overridden({{"redis_url", "redis://127.0.0.1:1/0"}});
  auto server = ApiServer::Start(config);
  ASSERT_TRUE(server) << server.error().message;
  ApiClient client(fmt::format("http://127.0.0.1:{}", (*server)->port()));
  client.SetDefaultHeader("X-API-Key", keys_.at("researcher"));
  for (int i = 0; i < 3; ++i) {
    auto list = client.Get("/api/v1/pairs");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.Header("X-FurrSight-Cache"), "");
  }
  auto verified = client.Post("/api/v1/pairs/" + id + "/verify", json::object{}, {{"If-Match", "\"1\""}});
  EXPECT_EQ(verified.status, 200) << verified.body;
  client.SetDefaultHeader("X-API-Key", keys_.at("operator"));
  auto ready = client.Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_FALSE(ready.Json().at("checks").at("redis").at("ok").as_bool());
}

TEST_F(ApiTest, JobsSubmitListShowCancelAndRetry) {
  As("researcher");
  auto submitted = client_->Post("/api/v1/jobs", json::object{{"type", "NOOP"}, {"payload", json::object{}}},
                                 {{"Idempotency-Key", "nightly-1"}});
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const std::string id(submitted.Json().at("id").as_string());
  EXPECT_EQ(submitted.Header("Location"), "/api/v1/jobs/" + id);
  auto again = client_->Post("/api/v1/jobs", json::object{{"type", "NOOP"}}, {{"Idempotency-Key", "nightly-1"}});
  EXPECT_EQ(again.Json().at("id").as_string(), id) << "the same key names the same job";
  EXPECT_FALSE(again.Json().at("created").as_bool());
  auto other_type = client_->Post("/api/v1/jobs", json::object{{"type", "BATCH_INFERENCE"}},
                                  {{"Idempotency-Key", "nightly-1"}});
  EXPECT_EQ(other_type.status, 409) << other_type.body;
  EXPECT_NE(other_type.body.find("already names job " + id), std::string::npos) << other_type.body;

  EXPECT_EQ(Get("/api/v1/jobs/" + id).status, 200);
  WaitFor("the job in the list", [&] {
    auto r = Get("/api/v1/jobs?type=NOOP&status=PENDING");
    return r.status == 200 && r.Json().at("items").as_array().size() == 1;
  });
  auto cancelled = client_->Post("/api/v1/jobs/" + id + "/cancel", json::object{{"reason", "not tonight"}});
  ASSERT_EQ(cancelled.status, 202) << cancelled.body;
  EXPECT_EQ(cancelled.Json().at("status").as_string(), "CANCELLED");
  auto history = Get("/api/v1/jobs/" + id + "/events");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.Json().at("events").as_array().back().at("type").as_string(), "JobCancelled");
  // Only a FAILED job can be retried.
  auto refused = client_->Post("/api/v1/jobs/" + id + "/retry", json::object{});
  EXPECT_EQ(refused.status, 409) << refused.body;

  // A job that failed for good, then retried.
  auto failing = SubmitJob({.job_type = "NOOP", .max_attempts = 1});
  auto state = State(failing);
  auto claimed = service_->Execute(failing, orchestrator::jobs::ClaimJob{"w1", testing::NowUs()},
                                   {"worker:w1", "c", "c", "worker", testing::NowUs()});
  ASSERT_TRUE(claimed) << claimed.error().message;
  auto failed = service_->Execute(
      failing, orchestrator::jobs::FailJob{"w1", claimed->attempt, "boom", false, testing::NowUs(), 0.5},
      {"worker:w1", "f", "f", "worker", testing::NowUs()});
  ASSERT_TRUE(failed) << failed.error().message;
  auto retried = client_->Post("/api/v1/jobs/" + failing + "/retry", json::object{});
  ASSERT_EQ(retried.status, 202) << retried.body;
  EXPECT_EQ(retried.Json().at("status").as_string(), "WAITING_RETRY") << "another attempt is scheduled";

  // Payloads are checked against the job type.
  auto bad = client_->Post("/api/v1/jobs", json::object{{"type", "SCRAPE_URL"}, {"payload", json::object{{"max_depth", "x"}}}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(client_->Post("/api/v1/jobs", json::object{{"type", "NOPE"}}).status, 400);
  As("auditor");
  EXPECT_EQ(client_->Post("/api/v1/jobs", json::object{{"type", "NOOP"}}).status, 403);
}

TEST_F(ApiTest, PixCrawlerResourcesAndDatasets) {
  testing::HistoryOptions options;
  options.events = 3000;
  options.pixcrawler = true;
  ASSERT_GT(testing::GenerateHistory(*store_, options), 0);
  As("researcher");
  WaitReadable();
  WaitFor("the PixCrawler read models to catch up", [&] {
    As("operator");
    const auto r = Get("/api/v1/projections");
    As("researcher");
    if (r.status != 200) return false;
    const auto status = r.Json();
    std::set<std::string> caught_up;  // both read models live, neither behind
    for (const auto& p : status.at("projections").as_array())
      if (p.at("state").as_string() == "live" && p.at("lag_events").as_int64() == 0)
        caught_up.insert(std::string(p.at("name").as_string()));
    return caught_up.contains("furrsight") && caught_up.contains("pixcrawler");
  });
  auto reply = Get("/api/v1/datasets");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto datasets = reply.Json();
  ASSERT_FALSE(datasets.at("items").as_array().empty()) << reply.body;
  const auto& first = datasets.at("items").as_array().at(0).as_object();
  EXPECT_TRUE(first.at("stats").as_object().contains("total_crawl_jobs"));
  const auto id = first.at("id").as_int64();
  EXPECT_EQ(Get(fmt::format("/api/v1/datasets/{}", id)).status, 200);
  EXPECT_EQ(Get(fmt::format("/api/v1/projects/{}", id)).status, 200);
  int rows_read_by_id = 0;
  for (const std::string path : {"/api/v1/projects", "/api/v1/crawl-jobs", "/api/v1/images", "/api/v1/validation-jobs",
                                 "/api/v1/export-jobs"}) {
    auto r = Get(path + "?limit=5");
    ASSERT_EQ(r.status, 200) << path << ": " << r.body;
    const auto page = r.Json();
    if (path == "/api/v1/images" || page.at("items").as_array().empty()) continue;
    // One row by id is the same row the list showed.
    const auto& first = page.at("items").as_array()[0];
    auto one = Get(fmt::format("{}/{}", path, first.at("id").as_int64()));
    ASSERT_EQ(one.status, 200) << path << ": " << one.body;
    EXPECT_EQ(one.Json(), first) << path;
    ++rows_read_by_id;
  }
  EXPECT_GE(rows_read_by_id, 2);
  // Pages by id: walking crawl jobs 3 at a time sees each once.
  std::set<std::int64_t> seen;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    auto r = Get("/api/v1/crawl-jobs?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto page_json = r.Json();
    for (const auto& item : page_json.at("items").as_array()) EXPECT_TRUE(seen.insert(item.at("id").as_int64()).second);
    if (r.Json().at("next_cursor").is_null()) break;
    cursor = std::string(r.Json().at("next_cursor").as_string());
  }
  EXPECT_FALSE(seen.empty());
  EXPECT_EQ(Get(fmt::format("/api/v1/crawl-jobs?project_id={}", id)).status, 200);
  EXPECT_EQ(Get("/api/v1/crawl-jobs?project_id=x").status, 400);
  EXPECT_EQ(Get("/api/v1/projects/999999").status, 404);
  As("auditor");
  EXPECT_EQ(Get("/api/v1/activity-logs?limit=2").status, 200);
}

TEST_F(ApiTest, EventFeedStreamAuditAndLiveEvents) {
  const std::string id = ProposePair(4);
  WaitReadable();  // the feed shows events once no older write transaction is open
  As("auditor");
  auto feed = Get("/api/v1/events?limit=2");
  ASSERT_EQ(feed.status, 200) << feed.body;
  EXPECT_EQ(feed.Json().at("events").as_array().size(), 2u);
  std::string after(feed.Json().at("next").as_string());
  std::size_t total = 2;
  for (int i = 0; i < 100; ++i) {
    auto page = Get("/api/v1/events?limit=2&after=" + after);
    ASSERT_EQ(page.status, 200);
    if (page.Json().at("events").as_array().empty()) break;
    total += page.Json().at("events").as_array().size();
    after = std::string(page.Json().at("next").as_string());
  }
  EXPECT_EQ(static_cast<long long>(total), CountEvents());
  EXPECT_EQ(Get("/api/v1/events?category=pair").Json().at("events").as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/streams/pair-" + id).Json().at("events").as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/events?after=nonsense").status, 400);
  auto head = Get("/api/v1/audit/head");
  EXPECT_EQ(head.status, 200) << head.body;
  auto verify = Get("/api/v1/audit/verify");
  ASSERT_EQ(verify.status, 200) << verify.body;
  EXPECT_TRUE(verify.Json().at("intact").as_bool());

  // Live: a stream opened now receives an event appended after it opened
  // (the stream's first line, a comment, says it is open) and nothing older.
  As("researcher");
  std::string received;
  std::atomic<bool> opened{false};
  std::thread reader([&] {
    ApiClient live(client_->base_url());
    live.SetDefaultHeader("X-API-Key", keys_.at("researcher"));
    received = live.Stream("/api/v1/events/live?category=pair", [&](const std::string& body) {
                     if (body.find(": furrsight events from") != std::string::npos) opened = true;
                     const auto first = body.find("event: event");  // read until the first event is whole
                     return first == std::string::npos || body.find("\n\n", first) == std::string::npos;
                   }).body;
  });
  WaitFor("the live stream to open", [&] { return opened.load(); });
  const std::string later = ProposePair(5);
  reader.join();
  EXPECT_NE(received.find("event: event"), std::string::npos) << received;
  EXPECT_NE(received.find(later), std::string::npos) << received;
  EXPECT_EQ(received.find(id), std::string::npos) << "events before the stream opened are not replayed";
}

// A live stream asks again whether its credential holds: revoking the key
// ends that stream (after the key directory's cache, at most 5 s) with an
// error event; a stream on a key still valid stays open.
TEST_F(ApiTest, LiveStreamEndsWhenItsKeyIsRevoked) {
  auth::ApiKeyService keys(*store_);
  auto issued = keys.Issue({.name = "short-lived", .roles = {"researcher"}}, {"test:setup", "setup", "setup", "test"});
  ASSERT_TRUE(issued) << issued.error().message;
  ApiClient probe(client_->base_url());
  probe.SetDefaultHeader("X-API-Key", issued->key);
  WaitFor("the new key works", [&] { return probe.Get("/api/v1/breeds").status == 200; });

  std::atomic<bool> kept_open_opened{false}, kept_open_ended{false};
  std::thread kept_open([&] {
    ApiClient live(client_->base_url());
    live.SetDefaultHeader("X-API-Key", keys_.at("researcher"));
    live.Stream("/api/v1/events/live", [&](const std::string& body) {
      kept_open_opened = kept_open_opened || body.find(": furrsight events from") != std::string::npos;
      return true;  // until the server stops
    });
    kept_open_ended = true;
  });
  WaitFor("the stream on the valid key to open", [&] { return kept_open_opened.load(); });
  ApiReply revoked_stream;
  std::atomic<bool> opened{false};
  const auto started = std::chrono::steady_clock::now();
  std::thread doomed([&] {
    revoked_stream = probe.Stream("/api/v1/events/live", [&](const std::string& body) {
      opened = opened || body.find(": furrsight events from") != std::string::npos;
      return true;  // until the server ends it
    });
  });
  WaitFor("the stream on the key to open", [&] { return opened.load(); });
  ASSERT_TRUE(keys.Revoke(issued->key_id, "leaked", {"test:admin", "c", "c", "test"}));
  doomed.join();
  const auto lasted = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(revoked_stream.status, 200) << revoked_stream.error;
  EXPECT_NE(revoked_stream.body.find("event: error"), std::string::npos) << revoked_stream.body;
  EXPECT_NE(revoked_stream.body.find("revoked"), std::string::npos) << revoked_stream.body;
  EXPECT_LT(lasted, std::chrono::seconds(25)) << "ended by the server, not by the client's 30 s timeout";
  EXPECT_FALSE(kept_open_ended) << "the stream on a valid key is still open";
  EXPECT_EQ(probe.Get("/api/v1/breeds").status, 401);
  server_->Stop();
  kept_open.join();
  EXPECT_TRUE(kept_open_ended);
}

// The whole log is for auditors: other readers follow the curation page's
// categories; and open streams are capped (each holds a handler thread).
TEST_F(ApiTest, LiveEventsAreLimitedByRoleAndInNumber) {
  As("researcher");
  auto apikeys = Get("/api/v1/events/live?category=apikey");
  EXPECT_EQ(apikeys.status, 403) << apikeys.body;
  std::vector<std::thread> readers;
  std::atomic<int> opened{0}, ended{0};
  for (int i = 0; i < 4; ++i)  // api_worker_threads 8 -> at most 4 streams
    readers.emplace_back([&] {
      ApiClient live(client_->base_url());
      live.SetDefaultHeader("X-API-Key", keys_.at("auditor"));
      bool counted = false;
      live.Stream("/api/v1/events/live", [&](const std::string& body) {
        if (!counted && body.find(": furrsight events from") != std::string::npos) {
          counted = true;
          ++opened;
        }
        return true;  // until the server stops
      });
      ++ended;
    });
  WaitFor("four live streams to open", [&] { return opened.load() == 4; });
  As("auditor");
  auto refused = Get("/api/v1/events/live");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("Retry-After"), "5");
  EXPECT_EQ(Get("/api/v1/events?limit=1").status, 200) << "other requests are still served";
  server_->Stop();
  for (auto& t : readers) t.join();
  EXPECT_EQ(ended, 4);
}

TEST_F(ApiTest, ImagesRedirectToAPresignedLinkThatExpires) {
  const std::string id = ProposePair(6);
  As("researcher");
  const auto pair = Get("/api/v1/pairs/" + id).Json();
  const std::string sha(pair.at("before").at("sha256").as_string());
  auto image = Get("/api/v1/images/" + sha);
  ASSERT_EQ(image.status, 302) << image.body;
  const std::string link = image.Header("Location");
  ASSERT_TRUE(link.starts_with("/api/v1/blobs/")) << link;
  As("");
  auto bytes = Get(link);
  ASSERT_EQ(bytes.status, 200) << bytes.body;
  EXPECT_EQ(bytes.body, "before image 6");
  EXPECT_EQ(Get(link.substr(0, link.find("signature=")) + "signature=00").status, 403);
  auto expired = Get(link.substr(0, link.find("expires=")) + "expires=1&" + link.substr(link.find("signature=")));
  EXPECT_EQ(expired.status, 403);
  As("researcher");
  EXPECT_EQ(Get("/api/v1/images/" + std::string(64, 'a')).status, 404);
  EXPECT_EQ(Get("/api/v1/images/xyz").status, 400);
}

TEST_F(ApiTest, OperationsHealthReadinessMetricsProjectionsAndRebuild) {
  As("");
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 401);
  As("operator");
  WaitFor("ready", [&] { return Get("/readyz").status == 200; });
  auto metrics = Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const std::string name : {"furrsight_http_requests_total", "furrsight_http_request_duration_seconds_bucket",
                                 "furrsight_log_head_position", "furrsight_projection_lag_events", "furrsight_jobs",
                                 "furrsight_workers_seen"})
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name;
  auto status = Get("/api/v1/projections");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_GE(status.Json().at("projections").as_array().size(), 2u);
  auto rebuild = client_->Post("/api/v1/projections/furrsight/rebuild", json::object{});
  ASSERT_EQ(rebuild.status, 202) << rebuild.body;
  WaitFor("the rebuild to finish", [&] {
    auto r = Get("/api/v1/projections").Json().at("rebuild").as_object();
    return r.at("finished").as_bool();
  });
  const auto done = Get("/api/v1/projections").Json().at("rebuild").as_object();
  EXPECT_TRUE(done.at("switched").as_bool()) << json::serialize(done);
  EXPECT_TRUE(done.at("error").is_null());
  EXPECT_EQ(client_->Post("/api/v1/projections/nope/rebuild", json::object{}).status, 404);
  auto openapi = Get("/api/v1/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  EXPECT_GT(openapi.Json().at("paths").as_object().size(), 20u);
}

// `furrsight api --port 0`: prints where it listens, serves, and stops
// cleanly on SIGTERM.
TEST_F(ApiTest, TheApiCommandServesUntilSigterm) {
  auto api = Spawn(Common({std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "api", "--port", "0", "--admin-database-url",
                           db_->AdminUrl(), "--blob-dir", blob_dir_.string(), "--log-level", "warn"}),
                   "api-command");
  std::smatch m;
  WaitFor("the listening line", [&] {
    const auto out = LogOf("api-command");
    return std::regex_search(out, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))"));
  });
  const std::string url = m[1];
  ApiClient client(url);
  EXPECT_EQ(client.Get("/healthz").status, 200);
  EXPECT_EQ(client.Get("/api/v1/pairs", {{"X-API-Key", keys_.at("researcher")}}).status, 200);
  api.Signal(SIGTERM);
  EXPECT_EQ(api.Wait(std::chrono::seconds(15)), std::optional<int>(0));
  auto bad = Spawn(Common({std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "api", "--port", "http"}), "api-bad");
  EXPECT_NE(bad.Wait(std::chrono::seconds(15)).value_or(0), 0);
  EXPECT_NE(LogOf("api-bad").find("api_port 'http' is not a port number"), std::string::npos) << LogOf("api-bad");
}

// Indented JSON for the copy of the OpenAPI document kept in docs/.
void Pretty(std::ostream& out, const json::value& v, int indent = 0) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& [k, member] : v.as_object()) {
      out << (first ? "" : ",\n") << pad << json::serialize(json::value(k)) << ": ";
      Pretty(out, member, indent + 2);
      first = false;
    }
    out << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out << "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      out << (first ? "" : ",\n") << pad;
      Pretty(out, item, indent + 2);
      first = false;
    }
    out << "\n" << std::string(static_cast<std::size_t>(indent), ' ') << "]";
  } else {
    out << json::serialize(v);
  }
}

// docs/openapi.json is the document the server serves (regenerate it with
// FURRSIGHT_UPDATE_DOCS=1 when routes change).
TEST_F(ApiTest, TheOpenApiCopyInDocsIsCurrent) {
  As("researcher");
  const auto served = Get("/api/v1/openapi.json").Json();
  const std::filesystem::path file = std::filesystem::path(FURRSIGHT_SOURCE_DIR) / "docs" / "openapi.json";
  if (std::getenv("FURRSIGHT_UPDATE_DOCS") != nullptr) {
    std::ofstream out(file);
    Pretty(out, served);
    out << "\n";
  }
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  json::error_code ec;
  const auto kept = json::parse(text, ec);
  ASSERT_FALSE(ec) << file << " is missing or not JSON; run with FURRSIGHT_UPDATE_DOCS=1";
  EXPECT_EQ(kept, served) << file << " is out of date; run api_pgtest with FURRSIGHT_UPDATE_DOCS=1";
}

// The curation page's static files need no credentials (the page holds no
// data; it signs in and calls the API); nothing outside ui/ is reachable.
TEST_F(ApiTest, TheCurationPageIsServedWithoutCredentials) {
  client_->ClearDefaultHeaders();
  const auto root = Get("/");
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(root.Header("location"), "/ui/");
  const auto index = Get("/ui/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  const auto script = Get("/ui/app.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Get("/ui/no-such-file.js").status, 404);
  EXPECT_EQ(Get("/ui/../CMakeLists.txt").status, 404) << "no way out of ui/";
  EXPECT_EQ(Get("/ui/%2e%2e/CMakeLists.txt").status, 404) << "no way out of ui/, encoded either";
}

// Every route: no credentials → 401; a principal without any of the route's
// roles → 403. A route added without a role rule fails here.
TEST_F(ApiTest, EveryRouteNeedsCredentialsAndItsRoles) {
  const auto no_roles = testing::TestIdentityProvider::Claims({});
  const std::string no_role_token = testing::SignJwt(idp_key_, no_roles);
  int checked = 0;
  for (const auto& route : server_->router().routes()) {
    if (route.public_route) {
      static const std::set<std::string> kPublic = {"/healthz", "/api/v1/blobs/{key...}", "/", "/ui/", "/ui/{path...}"};
      EXPECT_TRUE(kPublic.contains(route.pattern))
          << route.pattern << " is public: only /healthz, presigned blob links and the curation page's files may be";
      continue;
    }
    EXPECT_FALSE(route.roles.empty()) << route.pattern << " has no role rule";
    std::string path = route.pattern;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"{id}", "1"}, {"{sha256}", std::string(64, 'a')}, {"{stream_id}", "pair-x"}, {"{name}", "furrsight"}})
      if (auto at = path.find(from); at != std::string::npos) path.replace(at, from.size(), to);
    const std::string method(boost::beast::http::to_string(route.method));
    As("");
    auto anonymous = client_->Send(method, path, "{}");
    EXPECT_EQ(anonymous.status, 401) << method << " " << path;
    EXPECT_FALSE(anonymous.Header("WWW-Authenticate").empty());
    auto nobody = client_->Send(method, path, "{}", {{"Authorization", "Bearer " + no_role_token}});
    EXPECT_EQ(nobody.status, 403) << method << " " << path << ": " << nobody.body;
    for (const std::string role : {"researcher", "auditor", "operator"}) {
      if (std::ranges::find(route.roles, role) != route.roles.end()) continue;
      As(role);
      EXPECT_EQ(client_->Send(method, path, "{}").status, 403) << role << " " << method << " " << path;
    }
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

TEST_F(ApiTest, MeSaysWhoTheCallerIsByKeyAndByToken) {
  As("researcher");
  auto by_key = Get("/api/v1/me");
  ASSERT_EQ(by_key.status, 200) << by_key.body;
  const auto key = by_key.Json().as_object();
  EXPECT_EQ(key.at("display_name"), "test researcher");
  EXPECT_EQ(key.at("via"), "api_key");
  EXPECT_EQ(json::serialize(key.at("roles")), R"(["researcher"])");
  const std::string key_id = keys_.at("researcher").substr(3, keys_.at("researcher").find('_', 3) - 3);
  EXPECT_EQ(key.at("actor").as_string(), "apikey:" + key_id);
  EXPECT_EQ(Get("/api/v1/me?x=1").status, 400);

  As("");
  auto claims = testing::TestIdentityProvider::Claims({"auditor", "operator", "not-a-furrsight-role"});
  claims["name"] = "Ada Auditor";
  auto by_token = client_->Get("/api/v1/me", {{"Authorization", "Bearer " + testing::SignJwt(idp_key_, claims)}});
  ASSERT_EQ(by_token.status, 200) << by_token.body;
  const auto token = by_token.Json().as_object();
  EXPECT_EQ(token.at("display_name"), "Ada Auditor");
  EXPECT_EQ(token.at("via"), "jwt");
  EXPECT_EQ(json::serialize(token.at("roles")), R"(["auditor","operator"])") << "only FurrSight's roles";
  EXPECT_EQ(token.at("subject"), claims.at("sub"));
  EXPECT_TRUE(std::string(token.at("actor").as_string()).starts_with("user:")) << token.at("actor");
}

TEST_F(ApiTest, JwtsFromTheIdentityProviderAreCheckedEndToEnd) {
  As("");
  auto claims = testing::TestIdentityProvider::Claims({"researcher"});
  auto ok = client_->Get("/api/v1/breeds", {{"Authorization", "Bearer " + testing::SignJwt(idp_key_, claims)}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  auto expired = claims;
  expired["exp"] = 1000;
  EXPECT_EQ(client_->Get("/api/v1/breeds", {{"Authorization", "Bearer " + testing::SignJwt(idp_key_, expired)}}).status,
            401);
  auto wrong_aud = claims;
  wrong_aud["aud"] = "someone-else";
  EXPECT_EQ(client_->Get("/api/v1/breeds", {{"Authorization", "Bearer " + testing::SignJwt(idp_key_, wrong_aud)}}).status,
            401);
  // A key the provider publishes later: the unknown kid makes the API refetch
  // the key set (at most once per 10 s, so a flood of bad kids cannot hammer it).
  auto rotated = testing::TestSigningKey::Ec("k2");
  idp_.Publish(rotated);
  const auto fetched = idp_.JwksRequests();
  std::this_thread::sleep_for(std::chrono::milliseconds(10'500));
  EXPECT_EQ(client_->Get("/api/v1/breeds", {{"Authorization", "Bearer " + testing::SignJwt(rotated, claims)}}).status,
            200);
  EXPECT_EQ(idp_.JwksRequests(), fetched + 1);
  EXPECT_EQ(client_->Get("/api/v1/breeds", {{"Authorization", "Bearer not.a.jwt"}}).status, 401);
}

TEST_F(ApiTest, BadInputGetsA400ThatSaysWhatIsWrong) {
  const std::string id = ProposePair(7);
  As("admin");
  struct Case {
    std::string method, path, body;
    std::string expect;  // in the detail
  };
  const std::vector<Case> cases = {
      {"POST", "/api/v1/pairs/" + id + "/reject", "{\"reason\": ", "not valid JSON"},
      {"POST", "/api/v1/pairs/" + id + "/reject", "[1]", "must be a JSON object"},
      {"POST", "/api/v1/pairs/" + id + "/reject", R"({"reason": 5})", "must be a string"},
      {"POST", "/api/v1/pairs/" + id + "/reject", R"({"reason": "x", "extra": 1})", "unknown field 'extra'"},
      {"GET", "/api/v1/pairs/not-a-uuid", "", "UUID"},
      {"GET", "/api/v1/pairs?cursor=garbage", "", "cursor"},
      {"GET", "/api/v1/pairs?limit=0", "", "limit"},
      {"GET", "/api/v1/pairs?statuz=VERIFIED", "", "unknown query parameter 'statuz'"},
      {"GET", "/api/v1/pairs?status=MAYBE", "", "status"},
      {"GET", "/api/v1/jobs?cursor=1_2", "", "cursor"},
      {"POST", "/api/v1/jobs", R"({"type": "NOOP", "priority": "high"})", "must be an integer"},
      {"GET", "/api/v1/jobs?cursor=99999999999999999999_" + id, "", "cursor"},
      {"GET", "/api/v1/crawl-jobs?cursor=3000000000", "", "cursor"},
      {"GET", "/api/v1/datasets?cursor=3000000000", "", "cursor"},
      {"GET", "/api/v1/pairs/" + id + "?as_of=99999999999999999999", "", "log position"},
      {"GET", "/api/v1/events?after=1.x", "", "log position"},
      {"GET", "/api/v1/crawl-jobs?status=%FF%FE", "", "query parameter status is not valid UTF-8"},
      {"GET", "/api/v1/pairs?text=a%00b", "", "query parameter text is not valid UTF-8"},
      {"GET", "/api/v1/pairs?%C0%AF=1", "", "query parameter name is not valid UTF-8"},
      {"GET", "/api/v1/pairs/%ED%A0%80", "", "path parameter id is not valid UTF-8"},
      {"POST", "/api/v1/pairs/" + id + "/notes", R"({"note": "a\u0000b"})", "field 'note' holds a NUL character"},
      {"POST", "/api/v1/jobs", R"({"type": "SCRAPE_URL", "payload": {"urls": ["http://a.test/\u0000"]}})",
       "field 'payload.urls[0]' holds a NUL character"},
  };
  for (const auto& c : cases) {
    auto r = client_->Send(c.method, c.path, c.body, {{"If-Match", "\"1\""}});
    EXPECT_EQ(r.status, 400) << c.method << " " << c.path << " " << c.body << ": " << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/problem+json");
    const auto detail = r.Json().is_object() ? std::string(r.Json().at("detail").as_string()) : "";
    EXPECT_NE(detail.find(c.expect), std::string::npos) << c.path << ": " << detail;
  }
  // A header's bytes are not UTF-8 text either unless checked.
  auto bad_key = client_->Send("POST", "/api/v1/jobs", R"({"type": "NOOP"})", {{"Idempotency-Key", "k\xff\xfe"}});
  EXPECT_EQ(bad_key.status, 400) << bad_key.body;
  EXPECT_NE(bad_key.body.find("Idempotency-Key"), std::string::npos) << bad_key.body;
  auto huge = client_->Send("POST", "/api/v1/pairs/" + id + "/notes", std::string(2 << 20, 'x'), {{"If-Match", "\"1\""}});
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(Get("/api/v1/pairs/" + id).Json().at("version").as_int64(), 1) << "nothing was appended";
}

// What curl will put on the wire: spaces, quotes, control and non-ASCII
// bytes escaped; '%' left alone, so broken escapes like %ZZ reach the server.
std::string UrlSafe(const std::string& target) {
  std::string out;
  for (unsigned char c : target) {
    if (c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' &&
        c != '{' && c != '|' && c != '}')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// 1,200 generated malformed requests across the routes: none is a 5xx, and the
// server still serves afterwards.
TEST_F(ApiTest, GeneratedMalformedRequestsNeverGetA5xx) {
  const std::string id = ProposePair(8);
  As("admin");
  std::mt19937 rng(42);
  const std::vector<std::string> bad_values = {"", "x", "-1", "99999999999999999999", "%00", "%ZZ", "'; DROP TABLE events; --",
                                               "null", "1.5", std::string(300, 'a'), "\xff\xfe", "0", "true"};
  const std::vector<std::string> bodies = {"", "{", "[]", "null", "\"s\"", "{\"a\":", R"({"note": [1,2]})",
                                           R"({"services": "x"})", R"({"type": 1})", R"({"payload": []})",
                                           std::string(1000, '{'), R"({"reason": null})"};
  const auto& routes = server_->router().routes();
  int five_hundreds = 0, sent = 0;
  for (int i = 0; i < 1200; ++i) {
    const auto& route = routes[rng() % routes.size()];
    if (route.pattern == "/api/v1/events/live") continue;  // a stream: it stays open by design
    std::string path = route.pattern;
    for (std::string param : {"{id}", "{sha256}", "{stream_id}", "{name}", "{key...}"}) {
      if (auto at = path.find(param); at != std::string::npos) {
        const std::string& v = rng() % 4 == 0 ? id : bad_values[rng() % bad_values.size()];
        path.replace(at, param.size(), v.empty() ? "x" : v);
      }
    }
    std::string query = "?";
    for (std::string name : {"limit", "cursor", "status", "as_of", "after", "type", "min_confidence", "analysed"})
      if (rng() % 3 == 0) query += name + "=" + bad_values[rng() % bad_values.size()] + "&";
    const std::string method(boost::beast::http::to_string(route.method));
    auto r = client_->Send(method, UrlSafe(path + query), bodies[rng() % bodies.size()],
                           {{"If-Match", rng() % 2 ? "\"1\"" : "garbage"}});
    ++sent;
    if (r.status >= 500 || r.status == 0) {
      ++five_hundreds;
      ADD_FAILURE() << method << " " << path << query << " -> " << r.status << " " << r.error << " " << r.body;
    }
  }
  EXPECT_EQ(five_hundreds, 0) << "of " << sent;
  EXPECT_EQ(Get("/api/v1/pairs/" + id).status, 200) << "still serving";
}

}  // namespace
}  // namespace furrsight::api
