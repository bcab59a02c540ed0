#include "workers/inference/chat_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;
using Clock = std::chrono::steady_clock;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

struct Exchange {
  std::string body;
  std::string retry_after;
  std::size_t max_bytes = 0;
  bool too_big = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto& ex = *static_cast<Exchange*>(user);
  const std::size_t bytes = size * n;
  if (ex.body.size() + bytes > ex.max_bytes) {
    ex.too_big = true;
    return 0;  // aborts the transfer
  }
  ex.body.append(data, bytes);
  return bytes;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto& ex = *static_cast<Exchange*>(user);
  const std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
      ex.retry_after = std::string(v);
    }
  }
  return size * n;
}

// One attempt's outcome.
struct Attempt {
  enum class Kind { kDone, kRetry, kFail } kind = Kind::kFail;
  base::Error error;                                   // kRetry / kFail
  std::optional<std::chrono::milliseconds> retry_after;  // kRetry
  ChatCompletion completion;                           // kDone
};

std::string ServerMessage(const std::string& body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("error")) {
      if (e->is_object())
        if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) return std::string(m->get_string());
      if (e->is_string()) return std::string(e->get_string());
    }
    if (auto* m = v.as_object().if_contains("message"); m && m->is_string()) return std::string(m->get_string());
  }
  return body.substr(0, 200);
}

int TokenCount(const json::object& usage, std::string_view key) {
  const auto* v = usage.if_contains(key);
  return v != nullptr && v->is_int64() ? static_cast<int>(v->get_int64()) : 0;
}

base::Result<ChatCompletion> ParseCompletion(const std::string& body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return Fail(ErrorCode::kUnavailable, "the server's answer is not a JSON object");
  const auto& o = v.as_object();
  const auto* choices = o.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->as_array().empty() || !choices->as_array()[0].is_object())
    return Fail(ErrorCode::kUnavailable, "the server's answer has no choices");
  const auto& choice = choices->as_array()[0].as_object();
  const auto* message = choice.if_contains("message");
  if (message == nullptr || !message->is_object()) return Fail(ErrorCode::kUnavailable, "the server's answer has no message");
  ChatCompletion out;
  if (const auto* c = message->as_object().if_contains("content"); c && c->is_string()) out.content = c->get_string();
  else if (c == nullptr || !c->is_null()) return Fail(ErrorCode::kUnavailable, "the server's message has no text content");
  if (const auto* f = choice.if_contains("finish_reason"); f && f->is_string()) out.finish_reason = f->get_string();
  if (const auto* m = o.if_contains("model"); m && m->is_string()) out.model = m->get_string();
  if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
    out.prompt_tokens = TokenCount(u->as_object(), "prompt_tokens");
    out.completion_tokens = TokenCount(u->as_object(), "completion_tokens");
  }
  return out;
}

}  // namespace

std::chrono::milliseconds BackoffDelay(const ChatClientOptions& options, int attempt) {
  auto delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  return std::min(delay, options.max_backoff);
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && ptr == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(seconds * 1000);
  }
  const std::string text(value);
  const time_t at = curl_getdate(text.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const auto wait = std::chrono::system_clock::from_time_t(at) - now;
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(wait));
}

void RunInFlight(std::size_t count, int threads, const std::function<void(std::size_t)>& fn) {
  const std::size_t n = std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, threads)));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) fn(i);
  };
  std::vector<std::jthread> pool;
  pool.reserve(n);
  for (std::size_t t = 1; t < n; ++t) pool.emplace_back(work);
  work();
}

struct ChatClient::Impl {
  std::string url;
  std::string auth_header;
  std::mutex mu;
  std::condition_variable freed;
  std::vector<CURL*> free_handles;  // guarded by mu
  std::vector<CURL*> all_handles;   // fixed after construction
  std::mutex rng_mu;
  std::minstd_rand rng{0x5eed};     // guarded by rng_mu

  CURL* Take() {
    std::unique_lock lock(mu);
    freed.wait(lock, [&] { return !free_handles.empty(); });
    CURL* h = free_handles.back();
    free_handles.pop_back();
    return h;
  }
  void Give(CURL* h) {
    {
      std::lock_guard lock(mu);
      free_handles.push_back(h);
    }
    freed.notify_one();
  }
  double Uniform() {
    std::lock_guard lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }
};

ChatClient::ChatClient(ChatClientOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  GlobalInit();
  if (options_.max_in_flight < 1) options_.max_in_flight = 1;
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  std::string base = options_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  impl_->url = base + "/chat/completions";
  if (!options_.api_key.empty()) impl_->auth_header = "Authorization: Bearer " + options_.api_key;
  for (int i = 0; i < options_.max_in_flight; ++i) {
    CURL* h = curl_easy_init();
    if (h == nullptr) throw std::runtime_error("curl_easy_init failed");
    impl_->all_handles.push_back(h);
    impl_->free_handles.push_back(h);
  }
}

ChatClient::~ChatClient() {
  for (CURL* h : impl_->all_handles) curl_easy_cleanup(h);
}

base::Result<ChatCompletion> ChatClient::Complete(const json::object& body) {
  if (options_.base_url.empty()) return Fail(ErrorCode::kFailedPrecondition, "no model endpoint configured");
  json::object request = body;
  request["model"] = options_.model;
  const std::string payload = json::serialize(request);
  const auto started = Clock::now();

  auto attempt_once = [&]() -> Attempt {
    Exchange ex;
    ex.max_bytes = options_.max_response_bytes;
    CURL* h = impl_->Take();
    curl_easy_reset(h);  // keeps the connection cache
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!impl_->auth_header.empty()) headers = curl_slist_append(headers, impl_->auth_header.c_str());
    curl_easy_setopt(h, CURLOPT_URL, impl_->url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    impl_->Give(h);

    Attempt a;
    if (ex.too_big) {
      a.error = {ErrorCode::kUnavailable, fmt::format("answer larger than {} bytes", options_.max_response_bytes), {}};
      return a;
    }
    if (rc != CURLE_OK) {
      a.kind = Attempt::Kind::kRetry;
      const auto code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
      a.error = {code, fmt::format("{}: {}", impl_->url, curl_easy_strerror(rc)), {}};
      return a;
    }
    if (status == 200) {
      auto c = ParseCompletion(ex.body);
      if (!c) {
        a.error = c.error();
        return a;
      }
      a.kind = Attempt::Kind::kDone;
      a.completion = std::move(*c);
      return a;
    }
    const std::string what = fmt::format("HTTP {}: {}", status, ServerMessage(ex.body));
    if (status == 408 || status == 429 || status >= 500) {
      a.kind = Attempt::Kind::kRetry;
      a.error = {status == 408 ? ErrorCode::kTimeout : ErrorCode::kUnavailable, what, {}};
      a.retry_after = ParseRetryAfter(ex.retry_after, std::chrono::system_clock::now());
      return a;
    }
    a.error = {ErrorCode::kInvalidArgument, what, {}};
    return a;
  };

  for (int attempt = 1;; ++attempt) {
    Attempt a = attempt_once();
    if (a.kind == Attempt::Kind::kDone) {
      a.completion.attempts = attempt;
      a.completion.latency = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      return std::move(a.completion);
    }
    if (a.kind == Attempt::Kind::kFail) return std::unexpected(std::move(a.error));
    if (attempt >= options_.max_attempts) {
      a.error.message = fmt::format("{} (gave up after {} attempts)", a.error.message, attempt);
      return std::unexpected(std::move(a.error));
    }
    std::chrono::milliseconds wait{0};
    if (a.retry_after) {
      if (*a.retry_after > options_.max_retry_after) {
        a.error.message = fmt::format("{} (Retry-After {} ms is above the limit of {} ms; not waiting)", a.error.message,
                                      a.retry_after->count(), options_.max_retry_after.count());
        return std::unexpected(std::move(a.error));
      }
      wait = *a.retry_after;
    } else {
      wait = BackoffDelay(options_, attempt);
      if (options_.jitter > 0)
        wait -= std::chrono::milliseconds(static_cast<long long>(wait.count() * options_.jitter * impl_->Uniform()));
    }
    if (options_.sleep) options_.sleep(wait);
    else std::this_thread::sleep_for(wait);
  }
}

}  // namespace furrsight::workers::inference
