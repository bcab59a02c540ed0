// ChatClient: an OpenAI-compatible chat-completions client (vLLM, or any
// server speaking POST {base_url}/chat/completions), over libcurl.
//
// ChatTransport is the small interface the analyzers use (STYLE.md: the
// outside world behind an interface); ChatClient is its libcurl
// implementation. A request body is a chat-completions object without
// "model": the transport adds its own.
//
// Concurrency: Complete() is blocking and thread-safe. The client owns a pool
// of max_in_flight curl easy handles; a call takes one for each HTTP attempt
// and gives it back afterwards, so at most max_in_flight requests are on the
// wire at once however many threads call in (a caller blocks for a free
// handle). A handle keeps its connection between calls (keep-alive), and
// backoff waits hold no handle. RunInFlight() is the bounded pool of threads
// that puts many requests in flight: one thread per slot, each taking the
// next index. Chosen over curl multi because the work around each request
// (decoding and downscaling two images, validating the answer) is CPU work
// that belongs on several threads anyway.
//
// Retries (docs/inference.md): a connection failure, a timeout, 408, 429 and
// any 5xx are retried, up to max_attempts in all. The wait before attempt
// n+1 is Retry-After when the server sent one (seconds or an HTTP date;
// above max_retry_after the call fails at once instead of waiting), else
// initial_backoff * 2^(n-1) capped at max_backoff, shortened by up to
// `jitter` (a fraction) so that many clients refused together do not return
// together. Other 4xx are the caller's fault and fail at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"

namespace furrsight::workers::inference {

struct ChatCompletion {
  std::string content;        // choices[0].message.content, verbatim
  std::string finish_reason;  // "stop", "length", ...
  std::string model;          // as the server reports it
  int prompt_tokens = 0;      // usage
  int completion_tokens = 0;
  std::chrono::milliseconds latency{0};  // first byte sent to answer parsed, retries and waits included
  int attempts = 0;                      // HTTP attempts made
};

class ChatTransport {
 public:
  virtual ~ChatTransport() = default;
  // Thread-safe. Errors: kUnavailable (connection, 429, 5xx after the
  // retries, or an answer that is not a chat completion), kTimeout,
  // kInvalidArgument (the server refused the request: 4xx), kFailedPrecondition
  // (no endpoint configured).
  virtual base::Result<ChatCompletion> Complete(const boost::json::object& body) = 0;
  virtual const std::string& model() const = 0;
};

struct ChatClientOptions {
  std::string base_url;  // "http://gpu-1:8000/v1"; empty: every call fails with "no model endpoint configured"
  std::string model;     // "Qwen/Qwen2.5-VL-7B-Instruct"
  std::string api_key;   // sent as "Authorization: Bearer <key>" when not empty
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{120'000};  // per attempt
  int max_in_flight = 8;
  int max_attempts = 4;  // 1 + retries
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
  std::chrono::milliseconds max_retry_after{120'000};
  double jitter = 0.2;                     // 0 in tests: waits exactly as computed
  std::size_t max_response_bytes = 8 << 20;
  // How the client waits between attempts; tests record the waits. Default: sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class ChatClient final : public ChatTransport {
 public:
  explicit ChatClient(ChatClientOptions options);
  ~ChatClient() override;
  ChatClient(const ChatClient&) = delete;
  ChatClient& operator=(const ChatClient&) = delete;

  base::Result<ChatCompletion> Complete(const boost::json::object& body) override;
  const std::string& model() const override { return options_.model; }
  const ChatClientOptions& options() const { return options_; }

 private:
  struct Impl;
  ChatClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The wait before attempt `attempt + 1` (attempt >= 1) without Retry-After,
// before jitter: initial * 2^(attempt-1), capped.
std::chrono::milliseconds BackoffDelay(const ChatClientOptions& options, int attempt);

// Retry-After as a wait: delta seconds or an HTTP date (against `now`);
// nullopt when unreadable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// Calls fn(i) for i in [0, count) on min(count, threads) threads, each taking
// the next index; returns when all are done. fn must not throw (a throw is a
// bug and terminates).
void RunInFlight(std::size_t count, int threads, const std::function<void(std::size_t)>& fn);

}  // namespace furrsight::workers::inference
