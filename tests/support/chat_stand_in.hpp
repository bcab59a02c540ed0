// ChatStandIn: a local stand-in for a vLLM server, speaking the OpenAI
// chat-completions protocol (POST /v1/chat/completions) on loopback, for the
// inference tests and bench (STYLE.md: a remote service that cannot run here is
// replaced by a small local server speaking its real protocol). Built on
// HttpTestServer: one thread per connection, so it really serves many
// requests at once and measures how many.
//
// Every request is checked as a real server would need it: JSON body, the
// expected model, the Bearer key (when one is expected), messages with roles
// and content, the response_format json_schema (name, schema object, strict),
// and for a "pair_analysis" request exactly two image_url parts in one user
// message, each a data URL whose base64 decodes (strictly; its own decoder,
// not the client's) to bytes starting with the JPEG or PNG magic number
// of the declared type. A request that fails a check gets a 400 with an
// OpenAI-style error and the reason is kept (Violations()).
//
// Answers come from a script: each request takes the next step, and the
// default step once the script is used up. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/http_test_server.hpp"

namespace furrsight::testing {

enum class ChatStep {
  kNormal,           // a valid answer: Poodle, services from the catalog, confidence 0.92
  kSlow,             // kNormal after slow_delay
  kTooManyRequests,  // 429 with Retry-After: retry_after_seconds
  kServerError,      // 500
  kMalformedJson,    // 200, but the content is cut-off JSON (finish_reason "length")
  kSchemaViolation,  // 200, JSON with confidence 1.7 and no same_dog
  kUnknownBreed,     // a valid answer with a breed and a service outside any catalog
  kBrokenEnvelope,   // 200, but the body is not a chat completion
};

// What the stand-in saw in one request that passed its checks.
struct ChatSeenRequest {
  std::string model;
  std::string authorization;           // the header, verbatim
  std::string schema_name;             // response_format.json_schema.name
  std::vector<std::string> image_types;  // "image/jpeg" / "image/png", in order
  std::vector<std::string> images;       // the decoded bytes, in order
  std::string user_text;                 // the user message's text part(s)
};

class ChatStandIn {
 public:
  static constexpr std::string_view kNormalBreed = "Poodle";
  static constexpr std::string_view kUnknownBreed = "Lagotto Romagnolo";
  static constexpr std::string_view kUnknownService = "ear plucking";

  explicit ChatStandIn(std::string model = "stand-in/qwen2.5-vl", std::string api_key = "");

  std::string BaseUrl() const;  // "http://127.0.0.1:<port>/v1"
  const std::string& model() const { return model_; }

  void Script(std::vector<ChatStep> steps);  // appended to what is left
  void SetDefault(ChatStep step);
  void SetSlowDelay(std::chrono::milliseconds delay);
  void SetRetryAfterSeconds(int seconds);  // < 0: 429 without Retry-After

  int RequestCount() const;   // every POST to the endpoint, valid or not
  int MaxConcurrency() const; // requests being answered at once, at most
  std::vector<std::string> Violations() const;
  std::vector<ChatSeenRequest> Seen() const;
  std::vector<std::chrono::steady_clock::time_point> ArrivalTimes() const;
  void Stop() { server_.Stop(); }

  // The checks and the answer, as a pure function of the request and a step.
  HttpTestResponse Handle(const HttpTestRequest& request);

 private:
  ChatStep NextStep();

  std::string model_;
  std::string api_key_;
  mutable std::mutex mu_;
  std::deque<ChatStep> script_;                 // guarded by mu_
  ChatStep default_ = ChatStep::kNormal;        // guarded by mu_
  std::chrono::milliseconds slow_delay_{300};   // guarded by mu_
  int retry_after_seconds_ = 1;                 // guarded by mu_
  int requests_ = 0;                            // guarded by mu_
  std::vector<std::string> violations_;         // guarded by mu_
  std::vector<ChatSeenRequest> seen_;           // guarded by mu_
  std::vector<std::chrono::steady_clock::time_point> arrivals_;  // guarded by mu_
  HttpTestServer server_;  // last: stops (joins its threads) before the members above go
};

}  // namespace furrsight::testing
