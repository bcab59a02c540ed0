#include "workers/inference/structured_answer.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"
#include "workers/inference/json_schema.hpp"

namespace furrsight::workers::inference {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

void AskForStructuredAnswer(ChatTransport& transport, const json::object& request, const AnswerParser& parse,
                            ModelCalls& out) {
  std::string first_reason;
  for (int call = 1; call <= kMaxAnswers; ++call) {
    auto completion = transport.Complete(request);
    out.model_calls = call;
    if (!completion) {
      out.call_failed = true;
      out.error = fmt::format("model call failed: {}", completion.error().ToString());
      if (!first_reason.empty()) out.error += fmt::format(" (after an invalid answer: {})", first_reason);
      return;
    }
    out.latency += completion->latency;
    out.prompt_tokens += completion->prompt_tokens;
    out.completion_tokens += completion->completion_tokens;
    out.raw_answer = completion->content;
    std::string reason = parse(completion->content);
    if (reason.empty()) {
      out.ok = true;
      out.error.clear();
      return;
    }
    if (completion->finish_reason == "length") reason += " (the answer was cut off at max_tokens)";
    if (call == 1) {
      first_reason = std::move(reason);
      continue;
    }
    out.error = reason == first_reason ? fmt::format("answer invalid twice: {}", reason)
                                       : fmt::format("answer invalid twice: {}; first: {}", reason, first_reason);
  }
}

json::object JsonSchemaResponseFormat(std::string_view name, const json::object& schema) {
  return json::object{{"type", "json_schema"},
                      {"json_schema", json::object{{"name", name}, {"schema", schema}, {"strict", true}}}};
}

base::Result<json::value> ParseStructuredAnswer(std::string_view content, const json::object& schema) {
  std::string text = base::Trim(content);
  // A model that ignores response_format may still wrap the object in a fence.
  if (text.starts_with("```")) {
    const auto first_nl = text.find('\n');
    const auto last = text.rfind("```");
    if (first_nl != std::string::npos && last > first_nl)
      text = base::Trim(std::string_view(text).substr(first_nl + 1, last - first_nl - 1));
  }
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "invalid JSON: the answer is empty");
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Fail(ErrorCode::kInvalidArgument, fmt::format("invalid JSON: {}", ec.message()));
  if (auto r = ValidateJson(v, schema); !r) return Fail(ErrorCode::kInvalidArgument, "schema violation: " + r.error().message);
  return v;
}

}  // namespace furrsight::workers::inference
