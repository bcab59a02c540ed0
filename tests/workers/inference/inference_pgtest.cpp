// BATCH_INFERENCE and GENERATE_QUERIES as real processes: a furrsight-worker
// (kinds inference,queries) and a projector against the harness's PostgreSQL
// and Redis, the model played by the chat-completions stand-in
// (tests/support/chat_stand_in) on loopback. Pairs are seeded as the pipeline
// leaves them: two JPEGs in the file blob store and PairProposed on the
// pair's stream.
#include <map>
#include <set>

#include "tests/support/chat_stand_in.hpp"
#include "tests/support/process_fixture.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"
#include "workers/storage/filesystem_blob_store.hpp"

namespace furrsight::workers {
namespace {

using namespace std::chrono_literals;
namespace jobs = orchestrator::jobs;
using testing::ChatStandIn;
using testing::ChatStep;

class InferenceJobTest : public testing::ProcessTest {
 protected:
  std::string Label() const override { return "inference"; }

  void SetUp() override {
    ProcessTest::SetUp();
    blob_dir_ = testing::Services().dir / (db_->name() + "-blobs");
    auto blobs = FilesystemBlobStore::Open({.root = blob_dir_, .signing_key = "inference-test-signing-key"});
    ASSERT_TRUE(blobs.has_value()) << blobs.error().message;
    blobs_ = std::move(*blobs);
    // The catalog as a researcher left it: the stand-in's "Full Groom" and
    // "nail trim" are these two, spelled differently.
    Register("breed-poodle", "BreedRegistered", R"({"name":"Poodle","slug":"poodle"})");
    Register("service-full-groom", "ServiceRegistered", R"({"name":"Full groom","slug":"full-groom"})");
    Register("service-nail-trim", "ServiceRegistered", R"({"name":"Nail trim","slug":"nail-trim"})");
    projector_.emplace(StartProjector("furrsight"));
  }

  void Register(const std::string& stream, const std::string& type, const std::string& payload) {
    auto e = testing::TestEvent(stream, type, payload);
    ASSERT_TRUE(store_->Append(stream, events::ExpectedVersion::NoStream(), std::span(&e, 1)));
  }

  // `n` pairs in the order the job will take them (created_at, id); returns their ids.
  std::vector<std::string> SeedPairs(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      const auto seed = static_cast<std::uint32_t>(100 + i);
      auto before = blobs_->PutContent(
          sample_site::Encode(sample_site::DogPhoto(seed, {seed, false}, {0, 0}, {640, 480}), ".jpg"), "image/jpeg");
      auto after = blobs_->PutContent(
          sample_site::Encode(sample_site::DogPhoto(seed, {seed, true}, {4, 2}, {640, 480}), ".jpg"), "image/jpeg");
      EXPECT_TRUE(before && after);
      const std::string id = base::NewUuid();
      Register("pair-" + id, "PairProposed",
               fmt::format(R"({{"before_image_sha256":"{}","after_image_sha256":"{}","before_image_url":"http://x/{}b.jpg",)"
                           R"("after_image_url":"http://x/{}a.jpg","source_url":"http://x/{}","cue":"alt:before/after"}})",
                           before->sha256, after->sha256, i, i, i));
      ids.push_back(id);
      std::this_thread::sleep_for(2ms);  // distinct created_at: the job's order is the seeding order
    }
    EXPECT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM grooming_pairs") == n; }, 30s));
    return ids;
  }

  ChildProcess StartInferenceWorker(const ChatStandIn& model, int in_flight, std::vector<std::string> extra = {}) {
    std::vector<std::string> flags{"--inference-base-url", model.BaseUrl(), "--inference-model", model.model(),
                                   "--inference-max-in-flight", std::to_string(in_flight), "--inference-timeout-ms",
                                   "3000", "--blob-dir", blob_dir_.string(), "--job-limits", ""};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return StartWorker("inference", 2, flags, "inference,queries");
  }

  jobs::JobState WaitForEnd(const std::string& job, std::chrono::seconds limit = 90s) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto s = State(job).status;
          return s == jobs::JobStatus::kCompleted || s == jobs::JobStatus::kFailed;
        },
        limit))
        << jobs::StatusName(State(job).status) << LogOf("worker-inference");
    return State(job);
  }

  boost::json::object ResultOf(const std::string& job) {
    for (const auto& r : History(job))
      if (r.type == "JobCompleted") return r.payload.at("result").as_object();
    return {};
  }

  // The PairAnalyzed payloads of a pair, in order.
  std::vector<boost::json::object> Analyses(const std::string& pair) {
    std::vector<boost::json::object> out;
    auto events = store_->ReadStream("pair-" + pair);
    EXPECT_TRUE(events.has_value());
    for (const auto& e : *events)
      if (e.type == "PairAnalyzed") out.push_back(boost::json::parse(e.payload_json).as_object());
    return out;
  }

  static std::string Str(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  }
  static bool Ok(const boost::json::object& o) { return o.contains("ok") && o.at("ok").as_bool(); }

  std::filesystem::path blob_dir_;
  std::unique_ptr<FilesystemBlobStore> blobs_;
  std::optional<ChildProcess> projector_;
};

// One request at a time, so each scripted answer meets a known pair. Every
// case ends as docs/inference.md says, and every pair has exactly one
// PairAnalyzed: none half-analysed, none dropped.
TEST_F(InferenceJobTest, EveryScriptedCaseEndsAsDocumented) {
  const auto pairs = SeedPairs(7);
  ChatStandIn model;
  model.SetSlowDelay(400ms);
  model.SetRetryAfterSeconds(1);
  model.Script({ChatStep::kNormal,                                                       // 0
                ChatStep::kSlow,                                                         // 1
                ChatStep::kTooManyRequests, ChatStep::kNormal,                           // 2
                ChatStep::kServerError, ChatStep::kServerError, ChatStep::kServerError,  // 3
                ChatStep::kServerError,                                                  //   (4 HTTP attempts)
                ChatStep::kMalformedJson, ChatStep::kMalformedJson,                      // 4
                ChatStep::kSchemaViolation, ChatStep::kSchemaViolation,                  // 5
                ChatStep::kUnknownBreed});                                               // 6
  auto worker = StartInferenceWorker(model, 1);
  const std::string job = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {}});
  auto state = WaitForEnd(job);
  ASSERT_EQ(state.status, jobs::JobStatus::kCompleted) << state.last_error << LogOf("worker-inference");
  EXPECT_EQ(model.Violations(), std::vector<std::string>{});
  EXPECT_EQ(model.RequestCount(), 13);

  auto result = ResultOf(job);
  EXPECT_EQ(result.at("pairs").as_int64(), 7);
  EXPECT_EQ(result.at("analysed_ok").as_int64(), 4);
  EXPECT_EQ(result.at("analysis_failed").as_int64(), 3);
  EXPECT_EQ(Str(result, "prompt_version"), "pair_analysis.v1");

  std::vector<boost::json::object> a;
  for (const auto& p : pairs) {
    auto analyses = Analyses(p);
    ASSERT_EQ(analyses.size(), 1u) << "pair " << a.size();
    a.push_back(analyses[0]);
    EXPECT_EQ(Str(a.back(), "model"), model.model());
    EXPECT_EQ(Str(a.back(), "prompt_version"), "pair_analysis.v1");
  }
  // normal: the catalog's spellings
  EXPECT_TRUE(Ok(a[0]));
  EXPECT_EQ(Str(a[0], "breed"), "Poodle");
  EXPECT_EQ(boost::json::serialize(a[0].at("services")), R"(["Full groom","Nail trim"])");
  EXPECT_FALSE(Str(a[0], "raw_answer").empty());
  // slow: ok, its wait in the latency
  EXPECT_TRUE(Ok(a[1]));
  EXPECT_GE(std::stoll(Str(a[1], "latency_ms")), 400);
  // 429 with Retry-After: 1 s, then ok
  EXPECT_TRUE(Ok(a[2]));
  EXPECT_GE(std::stoll(Str(a[2], "latency_ms")), 1000);
  // 500 on every attempt: a failed analysis saying so, no raw answer
  EXPECT_FALSE(Ok(a[3]));
  EXPECT_NE(Str(a[3], "error").find("model call failed"), std::string::npos) << Str(a[3], "error");
  EXPECT_NE(Str(a[3], "error").find("HTTP 500"), std::string::npos) << Str(a[3], "error");
  EXPECT_EQ(Str(a[3], "raw_answer"), "");
  // malformed JSON twice: failed, the raw text kept
  EXPECT_FALSE(Ok(a[4]));
  EXPECT_NE(Str(a[4], "error").find("answer invalid twice: invalid JSON"), std::string::npos) << Str(a[4], "error");
  EXPECT_NE(Str(a[4], "raw_answer").find("\"breed\": \"Poo"), std::string::npos);
  // schema broken twice: failed, naming what broke
  EXPECT_FALSE(Ok(a[5]));
  EXPECT_NE(Str(a[5], "error").find("schema violation"), std::string::npos) << Str(a[5], "error");
  // unknown breed and service: ok, and both registered
  EXPECT_TRUE(Ok(a[6]));
  EXPECT_EQ(Str(a[6], "breed"), ChatStandIn::kUnknownBreed);

  // The read models: every pair analysed; breeds and services linked.
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM grooming_pairs WHERE analysed") == 7; }, 30s));
  EXPECT_EQ(Count("SELECT count(*) FROM dog_breeds WHERE name = 'Lagotto Romagnolo' AND slug = 'lagotto-romagnolo'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM grooming_services WHERE service_name = 'ear plucking'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM grooming_services"), 3);  // "Full Groom" found "Full groom": not registered again
  EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM grooming_pairs p JOIN dog_breeds b ON b.id = p.dog_breed_id "
                              "WHERE p.id = '{}' AND b.name = 'Lagotto Romagnolo'",
                              pairs[6])),
            1);
  EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM grooming_pairs p JOIN dog_breeds b ON b.id = p.dog_breed_id "
                              "WHERE p.id = '{}' AND b.name = 'Poodle'",
                              pairs[0])),
            1);
  EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM pair_service_link WHERE grooming_pair_id = '{}'", pairs[6])), 3);
  EXPECT_EQ(Count(fmt::format("SELECT count(*) FROM pair_service_link WHERE grooming_pair_id = '{}'", pairs[0])), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM grooming_pairs WHERE analysed AND NOT coalesce((analysis->>'ok')::boolean, false)"), 3);  // ok=false: left out of the JSON

  // A second batch takes only the three without an ok analysis by this model and prompt.
  const std::string again = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {}});
  ASSERT_EQ(WaitForEnd(again).status, jobs::JobStatus::kCompleted);
  EXPECT_EQ(ResultOf(again).at("pairs").as_int64(), 3);
  EXPECT_EQ(ResultOf(again).at("analysed_ok").as_int64(), 3);
  EXPECT_EQ(CountType("PairAnalyzed"), 10);
  EXPECT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM grooming_pairs WHERE analysis->>'ok' = 'true'") == 7; }, 30s));
}

// The server fails on every call: after kBreakerCalls failed calls in a row
// the attempt stops and fails retryable; pairs it did not reach have no
// analysis. Retried once the server is back, the same job analyses only the
// pairs it has not recorded — each pair ends with exactly one PairAnalyzed.
TEST_F(InferenceJobTest, ServerDownStopsTheBatchAndARetryFinishesItWithoutDuplicates) {
  const auto pairs = SeedPairs(12);
  ChatStandIn model;
  model.SetDefault(ChatStep::kServerError);
  auto worker = StartInferenceWorker(model, 2, {"--inference-max-attempts", "1"});
  const std::string job = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {}, .max_attempts = 1});
  auto state = WaitForEnd(job);
  ASSERT_EQ(state.status, jobs::JobStatus::kFailed);
  EXPECT_NE(state.last_error.find("failed 5 calls in a row"), std::string::npos) << state.last_error;
  EXPECT_NE(state.last_error.find("HTTP 500"), std::string::npos) << state.last_error;
  const long long recorded_first = CountType("PairAnalyzed");
  EXPECT_GE(recorded_first, 4);   // the failures before the breaker opened are failed analyses
  EXPECT_LT(recorded_first, 12);  // and the rest were not touched

  model.SetDefault(ChatStep::kNormal);
  std::string id = base::NewUuid();
  ASSERT_TRUE(service_->Execute(job, jobs::RetryJob{testing::NowUs(), "the server is back"},
                                {"test:operator", id, id, "test", testing::NowUs()}));
  state = WaitForEnd(job);
  ASSERT_EQ(state.status, jobs::JobStatus::kCompleted) << state.last_error;
  EXPECT_EQ(ResultOf(job).at("pairs").as_int64(), 12 - recorded_first);
  EXPECT_EQ(ResultOf(job).at("already_recorded").as_int64(), recorded_first);
  for (const auto& p : pairs) EXPECT_EQ(Analyses(p).size(), 1u) << p;
  EXPECT_EQ(CountType("PairAnalyzed"), 12);
}

// No endpoint: both inference job types fail at once, for good, saying what
// to set; nothing is recorded and nothing waits on them.
TEST_F(InferenceJobTest, NoEndpointFailsAtOnceWithWhatToConfigure) {
  SeedPairs(2);
  auto worker = StartWorker("inference", 2, {"--blob-dir", blob_dir_.string(), "--job-limits", ""}, "inference,queries");
  const std::string batch = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {}});
  const std::string queries = SubmitJob({.job_type = "GENERATE_QUERIES", .payload = {{"topic", "poodles"}}});
  for (const auto& job : {batch, queries}) {
    auto state = WaitForEnd(job, 30s);
    EXPECT_EQ(state.status, jobs::JobStatus::kFailed);
    EXPECT_EQ(state.attempt, 1);  // not retried
    EXPECT_NE(state.last_error.find("no model endpoint configured"), std::string::npos) << state.last_error;
    EXPECT_NE(state.last_error.find("inference_base_url"), std::string::npos) << state.last_error;
  }
  EXPECT_EQ(CountType("PairAnalyzed"), 0);
  EXPECT_EQ(CountType("QueriesGenerated"), 0);
}

// A bad payload is refused by the handler, not retried, and says what is wrong.
TEST_F(InferenceJobTest, BadFiltersFailForGoodNamingTheField) {
  ChatStandIn model;
  auto worker = StartInferenceWorker(model, 1);
  const std::string status = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {{"status", "MAYBE"}}});
  const std::string version = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {{"prompt_version", "pair_analysis.v9"}}});
  const std::string other = SubmitJob({.job_type = "BATCH_INFERENCE", .payload = {{"model", "gpt-9"}}});
  EXPECT_NE(WaitForEnd(status, 30s).last_error.find("payload.status 'MAYBE'"), std::string::npos);
  EXPECT_NE(WaitForEnd(version, 30s).last_error.find("v9"), std::string::npos) << State(version).last_error;
  EXPECT_NE(WaitForEnd(other, 30s).last_error.find("'gpt-9' is not the model this worker serves"), std::string::npos);
  for (const auto& job : {status, version, other}) EXPECT_EQ(State(job).attempt, 1);
  EXPECT_EQ(model.RequestCount(), 0);
}

// GENERATE_QUERIES: the queries recorded as QueriesGenerated, and with
// start_scrape one SCRAPE_URL job crawling from them.
TEST_F(InferenceJobTest, GeneratedQueriesAreRecordedAndStartOneCrawl) {
  ChatStandIn model;
  model.Script({ChatStep::kMalformedJson, ChatStep::kNormal});  // an invalid answer is asked for once more
  auto worker = StartInferenceWorker(model, 1);
  const std::string job = SubmitJob({.job_type = "GENERATE_QUERIES",
                                     .payload = {{"topic", "poodle grooming"}, {"count", 4}, {"start_scrape", true},
                                                 {"max_pages", 7}}});
  ASSERT_EQ(WaitForEnd(job).status, jobs::JobStatus::kCompleted) << State(job).last_error;
  EXPECT_EQ(model.Violations(), std::vector<std::string>{});
  auto events = store_->ReadStream("queries-" + job);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 1u);
  auto recorded = boost::json::parse((*events)[0].payload_json).as_object();
  EXPECT_TRUE(Ok(recorded));
  EXPECT_EQ(recorded.at("queries").as_array().size(), 4u);
  EXPECT_EQ(Str(recorded, "topic"), "poodle grooming");
  EXPECT_EQ(Str(recorded, "prompt_version"), "generate_queries.v1");
  const std::string scrape = Str(recorded, "scrape_job_id");
  ASSERT_FALSE(scrape.empty());
  EXPECT_EQ(Str(ResultOf(job), "scrape_job_id"), scrape);
  auto crawl = State(scrape);
  EXPECT_EQ(crawl.job_type, "SCRAPE_URL");
  EXPECT_EQ(crawl.payload.at("queries").as_array(), recorded.at("queries").as_array());
  EXPECT_EQ(crawl.payload.at("max_pages").as_int64(), 7);
  EXPECT_EQ(CountType("JobRequested"), 2);  // this job and its one crawl
}

}  // namespace
}  // namespace furrsight::workers
