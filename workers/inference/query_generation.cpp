#include "workers/inference/query_generation.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>


#include "events/base/text.hpp"

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

using base::Lower;
using base::Trim;

}  // namespace

json::object QuerySchema(int count) {
  return json::object{
      {"type", "object"},
      {"properties",
       json::object{{"queries", json::object{{"type", "array"},
                                             {"items", json::object{{"type", "string"},
                                                                    {"minLength", 1},
                                                                    {"maxLength", kMaxQueryLength}}},
                                             {"minItems", count},
                                             {"maxItems", count}}}}},
      {"required", json::array{"queries"}},
      {"additionalProperties", false},
  };
}

base::Result<json::object> BuildQueryRequest(const Prompt& prompt, std::string_view topic, int count,
                                             const QueryOptions& options) {
  const std::string t = Trim(topic);
  if (t.empty()) return Fail(ErrorCode::kInvalidArgument, "the topic is empty");
  if (count < 1 || count > kMaxQueryCount)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("query count {} is outside 1..{}", count, kMaxQueryCount));
  const std::map<std::string, std::string, std::less<>> values{{"topic", t}, {"count", std::to_string(count)}};
  auto system = RenderTemplate(prompt.system, values);
  if (!system) return std::unexpected(system.error());
  auto user = RenderTemplate(prompt.user, values);
  if (!user) return std::unexpected(user.error());
  return json::object{
      {"messages", json::array{json::object{{"role", "system"}, {"content", *system}},
                               json::object{{"role", "user"}, {"content", *user}}}},
      {"response_format", JsonSchemaResponseFormat(kQuerySchemaName, QuerySchema(count))},
      {"max_tokens", options.max_tokens},
      {"temperature", options.temperature},
  };
}

base::Result<std::vector<std::string>> ParseQueryAnswer(std::string_view content, int count) {
  auto v = ParseStructuredAnswer(content, QuerySchema(count));
  if (!v) return std::unexpected(v.error());
  std::vector<std::string> out;
  for (const auto& q : v->as_object().at("queries").as_array()) {
    std::string text = Trim(q.get_string());
    if (text.empty()) continue;
    const bool seen = std::ranges::any_of(out, [&](const std::string& x) { return Lower(x) == Lower(text); });
    if (!seen) out.push_back(std::move(text));
  }
  if (out.empty()) return Fail(ErrorCode::kInvalidArgument, "schema violation: $.queries: only blank queries");
  return out;
}

QueryGenerator::QueryGenerator(ChatTransport& transport, Prompt prompt, QueryOptions options)
    : transport_(transport), prompt_(std::move(prompt)), options_(options) {}

QueryGeneration QueryGenerator::Generate(std::string_view topic, int count) const {
  QueryGeneration out;
  out.model = transport_.model();
  out.prompt_version = prompt_.VersionTag();
  auto request = BuildQueryRequest(prompt_, topic, count, options_);
  if (!request) {
    out.error = request.error().message;
    return out;
  }
  AskForStructuredAnswer(transport_, *request, [&](std::string_view content) -> std::string {
    auto queries = ParseQueryAnswer(content, count);
    if (!queries) return queries.error().message;
    out.queries = std::move(*queries);
    return {};
  }, out);
  return out;
}

}  // namespace furrsight::workers::inference
