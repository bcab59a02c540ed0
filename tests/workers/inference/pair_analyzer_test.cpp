// PairAnalyzer and QueryGenerator end to end against the chat-completions
// stand-in: each scripted case ends as docs/inference.md says.
#include "workers/inference/pair_analysis.hpp"

#include <gtest/gtest.h>

#include "tests/support/chat_stand_in.hpp"
#include "workers/inference/query_generation.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"
#include "workers/vision/image_header.hpp"

namespace furrsight::workers::inference {
namespace {

using namespace std::chrono_literals;
using testing::ChatStandIn;
using testing::ChatStep;
namespace dogs = sample_site;

class PairAnalyzerTest : public ::testing::Test {
 protected:
  PairAnalyzerTest() {
    ChatClientOptions o;
    o.base_url = server_.BaseUrl();
    o.model = server_.model();
    o.total_timeout = 5s;
    o.jitter = 0;
    o.sleep = [](std::chrono::milliseconds) {};  // retries without waiting
    client_ = std::make_unique<ChatClient>(o);
    PairAnalysisOptions a;
    a.downscale.max_side = 320;
    a.services = {"Full Groom", "Nail Trim", "Bath"};
    a.breeds = {"Poodle", "Shih Tzu"};
    analyzer_ = std::make_unique<PairAnalyzer>(*client_, *BuiltInPrompt(kPairPromptName, 1), a);
    before_ = dogs::Encode(dogs::BeforePhoto(5), ".jpg");
    after_ = dogs::Encode(dogs::AfterPhoto(5), ".png");
  }
  ~PairAnalyzerTest() override { EXPECT_TRUE(server_.Violations().empty()) << server_.Violations().front(); }

  PairAnalysis Analyze() { return analyzer_->Analyze({before_, after_}); }

  ChatStandIn server_;
  std::unique_ptr<ChatClient> client_;
  std::unique_ptr<PairAnalyzer> analyzer_;
  std::string before_, after_;
};

TEST_F(PairAnalyzerTest, NormalAnswerBecomesAnOkAnalysis) {
  const auto a = Analyze();
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_TRUE(a.answer.is_grooming_pair);
  EXPECT_TRUE(a.answer.same_dog);
  EXPECT_EQ(a.answer.breed, "Poodle");
  EXPECT_EQ(a.answer.services, (std::vector<std::string>{"Full Groom", "Nail Trim"}));
  EXPECT_DOUBLE_EQ(a.answer.confidence, 0.92);
  EXPECT_FALSE(a.breed_is_new);
  EXPECT_TRUE(a.new_services.empty());
  EXPECT_EQ(a.model, "stand-in/qwen2.5-vl");
  EXPECT_EQ(a.prompt_version, "pair_analysis.v1");
  EXPECT_EQ(a.model_calls, 1);
  EXPECT_GT(a.prompt_tokens, 0);
  EXPECT_GT(a.completion_tokens, 0);
  EXPECT_FALSE(a.raw_answer.empty());
  const auto e = ToPairAnalyzed(a);
  EXPECT_TRUE(e.ok());
  EXPECT_EQ(e.raw_answer(), a.raw_answer);
}

TEST_F(PairAnalyzerTest, RequestCarriesTwoValidImagesWithinTheMaxSide) {
  ASSERT_TRUE(Analyze().ok);
  const auto seen = server_.Seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].schema_name, "pair_analysis");
  ASSERT_EQ(seen[0].images.size(), 2u);
  for (const auto& img : seen[0].images) {
    auto h = vision::SniffImageHeader(img);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->format, vision::ImageFormat::kJpeg);
    EXPECT_EQ(std::max(h->width, h->height), 320);
  }
  EXPECT_NE(seen[0].user_text.find("- Nail Trim"), std::string::npos);
}

TEST_F(PairAnalyzerTest, SlowAnswerIsOkAndItsLatencyRecorded) {
  server_.Script({ChatStep::kSlow});
  server_.SetSlowDelay(300ms);
  const auto a = Analyze();
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_GE(a.latency, 300ms);
  EXPECT_GE(ToPairAnalyzed(a).latency_ms(), 300);
}

TEST_F(PairAnalyzerTest, TooManyRequestsIsWaitedOutAndOk) {
  server_.Script({ChatStep::kTooManyRequests, ChatStep::kTooManyRequests});
  const auto a = Analyze();
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.model_calls, 1);
  EXPECT_EQ(server_.RequestCount(), 3);
}

TEST_F(PairAnalyzerTest, PersistentServerErrorIsAFailedAnalysis) {
  server_.SetDefault(ChatStep::kServerError);
  const auto a = Analyze();
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.error.find("model call failed: unavailable"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("HTTP 500"), std::string::npos) << a.error;
  EXPECT_EQ(a.raw_answer, "");
  EXPECT_EQ(server_.RequestCount(), 4);  // max_attempts
  const auto e = ToPairAnalyzed(a);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error(), a.error);
  EXPECT_EQ(e.prompt_version(), "pair_analysis.v1");
}

TEST_F(PairAnalyzerTest, MalformedJsonOnceIsAskedAgainAndOk) {
  server_.Script({ChatStep::kMalformedJson});
  const auto a = Analyze();
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.model_calls, 2);
  EXPECT_EQ(server_.RequestCount(), 2);
}

TEST_F(PairAnalyzerTest, MalformedJsonTwiceIsAFailedAnalysisWithTheRawText) {
  server_.Script({ChatStep::kMalformedJson, ChatStep::kMalformedJson, ChatStep::kNormal});
  const auto a = Analyze();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.model_calls, 2);
  EXPECT_TRUE(a.error.starts_with("answer invalid twice: invalid JSON")) << a.error;
  EXPECT_NE(a.error.find("cut off at max_tokens"), std::string::npos) << a.error;
  EXPECT_TRUE(a.raw_answer.starts_with(R"({"is_grooming_pair": true)")) << a.raw_answer;
  EXPECT_GT(a.completion_tokens, 0);  // what the failed calls cost is kept
  EXPECT_EQ(ToPairAnalyzed(a).raw_answer(), a.raw_answer);
  EXPECT_EQ(server_.RequestCount(), 2);
}

TEST_F(PairAnalyzerTest, SchemaViolationTwiceIsAFailedAnalysisNamingTheField) {
  server_.SetDefault(ChatStep::kSchemaViolation);
  const auto a = Analyze();
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error, "answer invalid twice: schema violation: $: required property \"same_dog\" is missing");
  EXPECT_NE(a.raw_answer.find("1.7"), std::string::npos);
}

TEST_F(PairAnalyzerTest, SchemaViolationThenMalformedReportsBothReasons) {
  server_.Script({ChatStep::kSchemaViolation, ChatStep::kMalformedJson});
  const auto a = Analyze();
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.error.find("invalid JSON"), std::string::npos) << a.error;
  EXPECT_NE(a.error.find("first: schema violation"), std::string::npos) << a.error;
}

TEST_F(PairAnalyzerTest, UnknownBreedIsOkAndMarkedNew) {
  server_.Script({ChatStep::kUnknownBreed});
  const auto a = Analyze();
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.answer.breed, ChatStandIn::kUnknownBreed);
  EXPECT_TRUE(a.breed_is_new);
  EXPECT_EQ(a.new_services, (std::vector<std::string>{std::string(ChatStandIn::kUnknownService)}));
}

TEST_F(PairAnalyzerTest, UnreadableImageFailsWithoutCallingTheModel) {
  const auto a = analyzer_->Analyze({before_, "GIF89a?"});
  EXPECT_FALSE(a.ok);
  EXPECT_TRUE(a.error.starts_with("after image:")) << a.error;
  EXPECT_EQ(a.model_calls, 0);
  EXPECT_EQ(server_.RequestCount(), 0);
}

TEST_F(PairAnalyzerTest, NoEndpointConfiguredFailsEveryPairAtOnce) {
  ChatClient none{ChatClientOptions{}};
  PairAnalyzer analyzer(none, *BuiltInPrompt(kPairPromptName), {});
  const auto a = analyzer.Analyze({before_, after_});
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error, "model call failed: failed_precondition: no model endpoint configured");
}

// Many pairs in flight, a mixed script: every pair ends ok or failed with a
// reason, none half-done, and the concurrency limit holds.
TEST_F(PairAnalyzerTest, ThirtyTwoPairsInFlightAllEndOkOrFailedWithAReason) {
  ChatClientOptions o = client_->options();
  o.max_in_flight = 8;
  ChatClient limited(o);
  PairAnalysisOptions a;
  a.downscale.max_side = 160;
  PairAnalyzer analyzer(limited, *BuiltInPrompt(kPairPromptName), a);
  std::vector<ChatStep> script;
  for (int i = 0; i < 8; ++i)
    script.insert(script.end(), {ChatStep::kSlow, ChatStep::kTooManyRequests, ChatStep::kUnknownBreed, ChatStep::kNormal});
  server_.Script(script);
  server_.SetSlowDelay(100ms);
  std::vector<PairAnalysis> results(32);
  RunInFlight(32, 32, [&](std::size_t i) { results[i] = analyzer.Analyze({before_, after_}); });
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.raw_answer.empty());
  }
  EXPECT_LE(server_.MaxConcurrency(), 8);
  EXPECT_EQ(server_.RequestCount(), 40);
}

TEST(QueryGeneratorTest, GeneratesTheAskedNumberOfQueries) {
  ChatStandIn server;
  ChatClientOptions o;
  o.base_url = server.BaseUrl();
  o.model = server.model();
  ChatClient client(o);
  QueryGenerator generator(client, *BuiltInPrompt(kQueryPromptName, 1));
  const auto g = generator.Generate("doodle first haircut", 6);
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(g.queries.size(), 6u);
  EXPECT_EQ(g.prompt_version, "generate_queries.v1");
  ASSERT_EQ(server.Seen().size(), 1u);
  EXPECT_EQ(server.Seen()[0].schema_name, "search_queries");
  EXPECT_TRUE(server.Seen()[0].images.empty());
  EXPECT_NE(server.Seen()[0].user_text.find("doodle first haircut"), std::string::npos);
  EXPECT_TRUE(server.Violations().empty());
}

TEST(QueryGeneratorTest, InvalidAnswerTwiceIsAFailureWithTheRawText) {
  ChatStandIn server;
  server.SetDefault(ChatStep::kSchemaViolation);
  ChatClientOptions o;
  o.base_url = server.BaseUrl();
  o.model = server.model();
  ChatClient client(o);
  QueryGenerator generator(client, *BuiltInPrompt(kQueryPromptName, 1));
  const auto g = generator.Generate("poodles", 3);
  EXPECT_FALSE(g.ok);
  EXPECT_TRUE(g.error.starts_with("answer invalid twice: schema violation: $.queries")) << g.error;
  EXPECT_EQ(g.raw_answer, R"({"queries": "one"})");
  EXPECT_EQ(g.model_calls, 2);
}

}  // namespace
}  // namespace furrsight::workers::inference
