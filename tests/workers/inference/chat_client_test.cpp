// ChatClient against the chat-completions stand-in on loopback.
#include "workers/inference/chat_client.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "tests/support/chat_stand_in.hpp"
#include "workers/inference/prompts.hpp"
#include "workers/inference/query_generation.hpp"

namespace furrsight::workers::inference {
namespace {

using namespace std::chrono_literals;
using testing::ChatStandIn;
using testing::ChatStep;

// Records the client's waits instead of sleeping them.
struct Waits {
  std::mutex mu;
  std::vector<std::chrono::milliseconds> waits;
  std::function<void(std::chrono::milliseconds)> Sleeper() {
    return [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu);
      waits.push_back(d);
    };
  }
};

ChatClientOptions OptionsFor(const ChatStandIn& server, Waits* waits = nullptr) {
  ChatClientOptions o;
  o.base_url = server.BaseUrl();
  o.model = server.model();
  o.api_key = "sk-test";
  o.connect_timeout = 2s;
  o.total_timeout = 5s;
  o.initial_backoff = 100ms;
  o.max_backoff = 1s;
  o.jitter = 0;
  if (waits != nullptr) o.sleep = waits->Sleeper();
  return o;
}

boost::json::object QueryBody(int count = 3) { return *BuildQueryRequest(*BuiltInPrompt(kQueryPromptName), "poodles", count); }

TEST(ChatClientTest, NormalAnswerCarriesContentUsageAndLatency) {
  ChatStandIn server("stand-in/vl", "sk-test");
  ChatClient client(OptionsFor(server));
  auto c = client.Complete(QueryBody());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_NE(c->content.find("\"queries\""), std::string::npos);
  EXPECT_EQ(c->finish_reason, "stop");
  EXPECT_EQ(c->model, "stand-in/vl");
  EXPECT_GT(c->prompt_tokens, 0);
  EXPECT_GT(c->completion_tokens, 0);
  EXPECT_EQ(c->attempts, 1);
  EXPECT_TRUE(server.Violations().empty());
  ASSERT_EQ(server.Seen().size(), 1u);
  EXPECT_EQ(server.Seen()[0].authorization, "Bearer sk-test");
  EXPECT_EQ(server.Seen()[0].model, "stand-in/vl");
}

TEST(ChatClientTest, HonoursRetryAfterOn429) {
  ChatStandIn server;
  server.SetRetryAfterSeconds(2);
  server.Script({ChatStep::kTooManyRequests});
  Waits waits;
  ChatClient client(OptionsFor(server, &waits));
  auto c = client.Complete(QueryBody());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->attempts, 2);
  EXPECT_EQ(waits.waits, (std::vector<std::chrono::milliseconds>{2000ms}));
}

TEST(ChatClientTest, BacksOffExponentiallyOn5xxWithoutRetryAfter) {
  ChatStandIn server;
  server.Script({ChatStep::kServerError, ChatStep::kServerError, ChatStep::kServerError});
  Waits waits;
  ChatClient client(OptionsFor(server, &waits));
  auto c = client.Complete(QueryBody());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->attempts, 4);
  EXPECT_EQ(waits.waits, (std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms}));
  EXPECT_EQ(server.RequestCount(), 4);
}

TEST(ChatClientTest, GivesUpAfterMaxAttempts) {
  ChatStandIn server;
  server.SetDefault(ChatStep::kServerError);
  Waits waits;
  auto options = OptionsFor(server, &waits);
  options.max_attempts = 3;
  ChatClient client(options);
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kUnavailable);
  EXPECT_NE(c.error().message.find("HTTP 500: the engine died (gave up after 3 attempts)"), std::string::npos)
      << c.error().message;
  EXPECT_EQ(server.RequestCount(), 3);
}

TEST(ChatClientTest, RetryAfterAboveTheLimitFailsAtOnce) {
  ChatStandIn server;
  server.SetRetryAfterSeconds(600);
  server.SetDefault(ChatStep::kTooManyRequests);
  Waits waits;
  ChatClient client(OptionsFor(server, &waits));
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("not waiting"), std::string::npos);
  EXPECT_TRUE(waits.waits.empty());
  EXPECT_EQ(server.RequestCount(), 1);
}

TEST(ChatClientTest, RetriesConnectionFailuresThenReportsUnavailable) {
  std::string dead_url;
  {
    ChatStandIn gone;
    dead_url = gone.BaseUrl();
  }  // nothing listens there now
  Waits waits;
  ChatClientOptions o;
  o.base_url = dead_url;
  o.model = "m";
  o.jitter = 0;
  o.initial_backoff = 10ms;
  o.max_attempts = 3;
  o.sleep = waits.Sleeper();
  ChatClient client(o);
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kUnavailable);
  EXPECT_EQ(waits.waits.size(), 2u);
}

TEST(ChatClientTest, SlowAnswerBeyondTheTimeoutIsATimeout) {
  ChatStandIn server;
  server.SetDefault(ChatStep::kSlow);
  server.SetSlowDelay(1500ms);
  Waits waits;
  auto options = OptionsFor(server, &waits);
  options.total_timeout = 300ms;
  options.max_attempts = 2;
  ChatClient client(options);
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kTimeout);
  EXPECT_EQ(server.RequestCount(), 2);
}

TEST(ChatClientTest, ClientErrorsAreNotRetried) {
  ChatStandIn server("right-model");
  auto options = OptionsFor(server);
  options.model = "wrong-model";
  ChatClient client(options);
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find("HTTP 404"), std::string::npos);
  EXPECT_EQ(server.RequestCount(), 1);
}

TEST(ChatClientTest, AnswerThatIsNotACompletionIsAnErrorNotACrash) {
  ChatStandIn server;
  server.Script({ChatStep::kBrokenEnvelope});
  ChatClient client(OptionsFor(server));
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kUnavailable);
  EXPECT_NE(c.error().message.find("no choices"), std::string::npos);
}

TEST(ChatClientTest, NoEndpointConfiguredFailsAtOnce) {
  ChatClient client(ChatClientOptions{});
  auto c = client.Complete(QueryBody());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, base::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(c.error().message, "no model endpoint configured");
}

// 32 requests from 32 threads at once: never more than max_in_flight on the
// wire, and the limit is reached (the pool really runs them in parallel).
TEST(ChatClientTest, ThirtyTwoRequestsRespectTheConcurrencyLimit) {
  for (int limit : {4, 8}) {
    ChatStandIn server;
    server.SetDefault(ChatStep::kSlow);
    server.SetSlowDelay(200ms);
    auto options = OptionsFor(server);
    options.max_in_flight = limit;
    ChatClient client(options);
    // One slot per request (std::vector<bool> packs bits: writes from
    // several threads into it race), the error kept to say why one failed.
    std::vector<std::string> errors(32);
    RunInFlight(32, 32, [&](std::size_t i) {
      auto c = client.Complete(QueryBody());
      errors[i] = c ? "" : c.error().message;
    });
    for (std::size_t i = 0; i < errors.size(); ++i) EXPECT_EQ(errors[i], "") << "request " << i;
    EXPECT_EQ(server.RequestCount(), 32);
    EXPECT_EQ(server.MaxConcurrency(), limit);
  }
}

TEST(ChatClientTest, RunInFlightUsesAtMostTheGivenThreads) {
  std::mutex mu;
  int now = 0, max = 0, calls = 0;
  RunInFlight(20, 3, [&](std::size_t) {
    {
      std::lock_guard lock(mu);
      max = std::max(max, ++now);
      ++calls;
    }
    std::this_thread::sleep_for(5ms);
    std::lock_guard lock(mu);
    --now;
  });
  EXPECT_EQ(calls, 20);
  EXPECT_LE(max, 3);
}

TEST(ChatClientTest, ParsesRetryAfterSecondsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  EXPECT_EQ(ParseRetryAfter("7", now), std::chrono::milliseconds(7000));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now), std::chrono::milliseconds(10'000));
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_FALSE(ParseRetryAfter("", now));
}

TEST(ChatClientTest, BackoffDoublesUpToTheCap) {
  ChatClientOptions o;
  o.initial_backoff = 500ms;
  o.max_backoff = 3s;
  EXPECT_EQ(BackoffDelay(o, 1), 500ms);
  EXPECT_EQ(BackoffDelay(o, 2), 1000ms);
  EXPECT_EQ(BackoffDelay(o, 3), 2000ms);
  EXPECT_EQ(BackoffDelay(o, 4), 3000ms);
  EXPECT_EQ(BackoffDelay(o, 40), 3000ms);
}

}  // namespace
}  // namespace furrsight::workers::inference
