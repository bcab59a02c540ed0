#include "tests/support/chat_stand_in.hpp"

#include <array>
#include <cstdint>
#include <optional>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace furrsight::testing {
namespace {

namespace json = boost::json;

// Strict base64 (RFC 4648), independent of the client's encoder on purpose.
std::optional<std::string> DecodeBase64(std::string_view text) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;
      ++pad;
      continue;
    }
    if (pad > 0) return std::nullopt;
    const auto d = kAlphabet.find(c);
    if (d == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

bool HasMagic(std::string_view bytes, std::string_view type) {
  if (type == "image/jpeg") return bytes.size() > 3 && bytes.substr(0, 3) == std::string_view("\xFF\xD8\xFF", 3);
  if (type == "image/png") return bytes.size() > 8 && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1A\n", 8);
  return false;
}

HttpTestResponse OpenAiError(int status, std::string_view type, std::string_view message) {
  json::object body{{"error", json::object{{"message", message}, {"type", type}, {"code", status}}}};
  return HttpTestResponse::Status(status, json::serialize(body)).Header("Content-Type", "application/json");
}

HttpTestResponse Completion(const std::string& model, const std::string& content, std::string_view finish_reason,
                            std::size_t request_bytes) {
  const auto prompt_tokens = static_cast<std::int64_t>(request_bytes / 100 + 50);
  const auto completion_tokens = static_cast<std::int64_t>(content.size() / 4 + 1);
  json::object body{
      {"id", "chatcmpl-stand-in"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", model},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", json::object{{"role", "assistant"}, {"content", content}}},
                                           {"finish_reason", finish_reason}}}},
      {"usage", json::object{{"prompt_tokens", prompt_tokens},
                             {"completion_tokens", completion_tokens},
                             {"total_tokens", prompt_tokens + completion_tokens}}},
  };
  return HttpTestResponse::Json(json::serialize(body));
}

std::string PairAnswer(std::string_view breed, const json::array& services, double confidence, bool with_same_dog) {
  json::object o{{"is_grooming_pair", true}, {"breed", breed}, {"services", services},
                 {"confidence", confidence}, {"notes", "Long coat before; short even clip after."}};
  if (with_same_dog) o["same_dog"] = true;
  return json::serialize(o);
}

}  // namespace

ChatStandIn::ChatStandIn(std::string model, std::string api_key) : model_(std::move(model)), api_key_(std::move(api_key)) {
  server_.Route("/v1/chat/completions", [this](const HttpTestRequest& r) { return Handle(r); });
}

std::string ChatStandIn::BaseUrl() const { return server_.Url("/v1"); }

void ChatStandIn::Script(std::vector<ChatStep> steps) {
  std::lock_guard lock(mu_);
  script_.insert(script_.end(), steps.begin(), steps.end());
}
void ChatStandIn::SetDefault(ChatStep step) {
  std::lock_guard lock(mu_);
  default_ = step;
}
void ChatStandIn::SetSlowDelay(std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  slow_delay_ = delay;
}
void ChatStandIn::SetRetryAfterSeconds(int seconds) {
  std::lock_guard lock(mu_);
  retry_after_seconds_ = seconds;
}
int ChatStandIn::RequestCount() const {
  std::lock_guard lock(mu_);
  return requests_;
}
int ChatStandIn::MaxConcurrency() const { return server_.MaxInFlight(); }
std::vector<std::string> ChatStandIn::Violations() const {
  std::lock_guard lock(mu_);
  return violations_;
}
std::vector<ChatSeenRequest> ChatStandIn::Seen() const {
  std::lock_guard lock(mu_);
  return seen_;
}
std::vector<std::chrono::steady_clock::time_point> ChatStandIn::ArrivalTimes() const {
  std::lock_guard lock(mu_);
  return arrivals_;
}

ChatStep ChatStandIn::NextStep() {
  std::lock_guard lock(mu_);
  if (script_.empty()) return default_;
  const ChatStep step = script_.front();
  script_.pop_front();
  return step;
}

HttpTestResponse ChatStandIn::Handle(const HttpTestRequest& request) {
  {
    std::lock_guard lock(mu_);
    ++requests_;
    arrivals_.push_back(request.received_at);
  }
  auto refuse = [&](std::string why) {
    {
      std::lock_guard lock(mu_);
      violations_.push_back(why);
    }
    return OpenAiError(400, "BadRequestError", why);
  };
  if (request.method != "POST") return refuse("method " + request.method);
  if (!api_key_.empty() && request.Header("authorization") != "Bearer " + api_key_)
    return OpenAiError(401, "AuthenticationError", "invalid API key");
  if (request.Header("content-type").find("application/json") == std::string::npos) return refuse("content-type is not JSON");

  json::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (ec || !body.is_object()) return refuse("body is not a JSON object");
  const auto& o = body.as_object();
  ChatSeenRequest seen;
  seen.authorization = request.Header("authorization");
  const auto* model = o.if_contains("model");
  if (model == nullptr || !model->is_string()) return refuse("no model");
  seen.model = model->as_string();
  if (seen.model != model_) return OpenAiError(404, "NotFoundError", fmt::format("The model `{}` does not exist.", seen.model));

  const auto* format = o.if_contains("response_format");
  if (format == nullptr || !format->is_object()) return refuse("no response_format");
  const auto* ftype = format->as_object().if_contains("type");
  if (ftype == nullptr || *ftype != "json_schema") return refuse("response_format.type is not json_schema");
  const auto* js = format->as_object().if_contains("json_schema");
  if (js == nullptr || !js->is_object()) return refuse("no response_format.json_schema");
  const auto* name = js->as_object().if_contains("name");
  const auto* schema = js->as_object().if_contains("schema");
  const auto* strict = js->as_object().if_contains("strict");
  if (name == nullptr || !name->is_string() || name->as_string().empty()) return refuse("json_schema.name missing");
  if (schema == nullptr || !schema->is_object() || !schema->as_object().contains("properties"))
    return refuse("json_schema.schema missing");
  if (strict == nullptr || *strict != true) return refuse("json_schema.strict is not true");
  seen.schema_name = name->as_string();
  if (o.contains("guided_json")) return refuse("guided_json is gone from vLLM");

  const auto* messages = o.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) return refuse("no messages");
  std::size_t users_with_images = 0;
  for (const auto& m : messages->as_array()) {
    if (!m.is_object()) return refuse("a message is not an object");
    const auto* role = m.as_object().if_contains("role");
    const auto* content = m.as_object().if_contains("content");
    if (role == nullptr || !role->is_string() || content == nullptr) return refuse("a message without role or content");
    const std::string_view r = role->as_string();
    if (r != "system" && r != "user" && r != "assistant") return refuse(fmt::format("unknown role {}", r));
    if (content->is_string()) {
      if (r == "user") seen.user_text += content->as_string();
      continue;
    }
    if (!content->is_array()) return refuse("content is neither text nor parts");
    std::size_t images_here = 0;
    for (const auto& part : content->as_array()) {
      const auto* type = part.is_object() ? part.as_object().if_contains("type") : nullptr;
      if (type == nullptr) return refuse("a content part without type");
      if (*type == "text") {
        const auto* text = part.as_object().if_contains("text");
        if (text == nullptr || !text->is_string()) return refuse("a text part without text");
        seen.user_text += text->as_string();
      } else if (*type == "image_url") {
        const auto* iu = part.as_object().if_contains("image_url");
        const auto* url = iu != nullptr && iu->is_object() ? iu->as_object().if_contains("url") : nullptr;
        if (url == nullptr || !url->is_string()) return refuse("an image_url part without url");
        const std::string_view u = url->as_string();
        constexpr std::string_view kMarker = ";base64,";
        const auto marker = u.find(kMarker);
        if (!u.starts_with("data:") || marker == std::string_view::npos) return refuse("image url is not a base64 data URL");
        const std::string mime(u.substr(5, marker - 5));
        if (mime != "image/jpeg" && mime != "image/png") return refuse("image type " + mime);
        auto bytes = DecodeBase64(u.substr(marker + kMarker.size()));
        if (!bytes) return refuse("image data is not valid base64");
        if (!HasMagic(*bytes, mime)) return refuse("image bytes do not start with the " + mime + " magic number");
        seen.image_types.push_back(mime);
        seen.images.push_back(std::move(*bytes));
        ++images_here;
      } else {
        return refuse("unknown content part type");
      }
    }
    if (images_here > 0) {
      if (r != "user") return refuse("images outside a user message");
      ++users_with_images;
    }
  }
  const bool pair = seen.schema_name == "pair_analysis";
  if (pair && (seen.images.size() != 2 || users_with_images != 1))
    return refuse(fmt::format("a pair request needs two images in one user message, got {} in {}", seen.images.size(),
                              users_with_images));

  // The query count the schema asks for.
  std::int64_t query_count = 5;
  if (const auto* q = schema->as_object().at("properties").as_object().if_contains("queries"))
    if (const auto* n = q->as_object().if_contains("minItems"); n && n->is_int64()) query_count = n->as_int64();

  std::chrono::milliseconds slow;
  int retry_after;
  {
    std::lock_guard lock(mu_);
    seen_.push_back(seen);
    slow = slow_delay_;
    retry_after = retry_after_seconds_;
  }
  const ChatStep step = NextStep();
  auto normal = [&](std::string_view breed, bool unknown_service) {
    if (!pair) {
      json::array queries;
      for (std::int64_t i = 0; i < query_count; ++i) queries.push_back(json::string(fmt::format("dog grooming before and after idea {}", i + 1)));
      return Completion(model_, json::serialize(json::object{{"queries", queries}}), "stop", request.body.size());
    }
    json::array services{"Full Groom", "nail trim"};
    if (unknown_service) services.push_back(json::string(kUnknownService));
    return Completion(model_, PairAnswer(breed, services, 0.92, true), "stop", request.body.size());
  };
  switch (step) {
    case ChatStep::kNormal: return normal(kNormalBreed, false);
    case ChatStep::kSlow: {
      auto r = normal(kNormalBreed, false);
      r.delay = slow;
      return r;
    }
    case ChatStep::kTooManyRequests: {
      auto r = OpenAiError(429, "RateLimitError", "too many requests");
      if (retry_after >= 0) r.Header("Retry-After", std::to_string(retry_after));
      return r;
    }
    case ChatStep::kServerError: return OpenAiError(500, "InternalServerError", "the engine died");
    case ChatStep::kMalformedJson:
      return Completion(model_, R"({"is_grooming_pair": true, "same_dog": true, "breed": "Poo)", "length", request.body.size());
    case ChatStep::kSchemaViolation:
      return Completion(model_, pair ? PairAnswer(kNormalBreed, json::array{"bath"}, 1.7, false) : R"({"queries": "one"})",
                        "stop", request.body.size());
    case ChatStep::kUnknownBreed: return normal(kUnknownBreed, true);
    case ChatStep::kBrokenEnvelope: return HttpTestResponse::Json(R"({"object": "chat.completion", "choices": 3})");
  }
  return OpenAiError(500, "InternalServerError", "unscripted");
}

}  // namespace furrsight::testing
