#include "workers/inference/pair_analysis.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "events/base/base64.hpp"

#include "events/base/text.hpp"

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

using base::Lower;
using base::Trim;

// The catalog's spelling of `name`, if it has one.
std::optional<std::string> InCatalog(std::string_view name, const std::vector<std::string>& catalog) {
  const std::string key = base::Slug(name);
  for (const auto& entry : catalog)
    if (base::Slug(entry) == key) return entry;
  return std::nullopt;
}

json::object MakePairSchema() {
  json::object bool_type{{"type", "boolean"}};
  return json::object{
      {"type", "object"},
      {"properties",
       json::object{
           {"is_grooming_pair", bool_type},
           {"same_dog", bool_type},
           {"breed", json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}},
           {"services", json::object{{"type", "array"},
                                     {"items", json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", 60}}},
                                     {"maxItems", kMaxServices}}},
           {"confidence", json::object{{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
           {"notes", json::object{{"type", "string"}, {"maxLength", kMaxNotesLength}}},
       }},
      {"required", json::array{"is_grooming_pair", "same_dog", "breed", "services", "confidence", "notes"}},
      {"additionalProperties", false},
  };
}

}  // namespace

const json::object& PairAnalysisSchema() {
  static const json::object kSchema = MakePairSchema();
  return kSchema;
}

base::Result<PairAnswer> ParsePairAnswer(std::string_view content, const PairAnalysisOptions& options) {
  auto v = ParseStructuredAnswer(content, PairAnalysisSchema());
  if (!v) return std::unexpected(v.error());
  const auto& o = v->as_object();
  PairAnswer answer;
  answer.is_grooming_pair = o.at("is_grooming_pair").get_bool();
  answer.same_dog = o.at("same_dog").get_bool();
  const std::string breed = Trim(o.at("breed").get_string());
  if (breed.empty()) return Fail(ErrorCode::kInvalidArgument, "schema violation: $.breed: blank");
  answer.breed = InCatalog(breed, options.breeds).value_or(Lower(breed) == kUnknownBreed ? std::string(kUnknownBreed) : breed);
  for (const auto& s : o.at("services").get_array()) {
    const std::string name = Trim(s.get_string());
    if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "schema violation: $.services: a blank service");
    std::string spelled = InCatalog(name, options.services).value_or(name);
    const bool seen = std::ranges::any_of(answer.services, [&](const std::string& x) { return Lower(x) == Lower(spelled); });
    if (!seen) answer.services.push_back(std::move(spelled));
  }
  answer.confidence = o.at("confidence").to_number<double>();
  answer.notes = Trim(o.at("notes").get_string());
  return answer;
}

base::Result<std::string> ImageDataUrl(std::string_view image_bytes, const vision::DownscaleOptions& downscale,
                                       std::int64_t max_pixels) {
  auto decoded = vision::DecodeImage(image_bytes, max_pixels);
  if (!decoded) return std::unexpected(decoded.error());
  auto small = vision::DownscaleForModel(decoded->pixels, downscale);
  if (!small) return std::unexpected(small.error());
  return "data:" + std::string(vision::ContentType(small->format)) + ";base64," + base::Base64Encode(small->bytes);
}

base::Result<json::object> BuildPairRequest(const Prompt& prompt, const PairImages& images,
                                            const PairAnalysisOptions& options) {
  std::string catalog;
  for (const auto& s : options.services) catalog += fmt::format("  - {}\n", s);
  if (catalog.empty()) catalog = "  (the catalog is empty)\n";
  if (!catalog.empty()) catalog.pop_back();
  const std::map<std::string, std::string, std::less<>> values{{"services", catalog}};
  auto system = RenderTemplate(prompt.system, values);
  if (!system) return std::unexpected(system.error());
  auto user = RenderTemplate(prompt.user, values);
  if (!user) return std::unexpected(user.error());

  auto before = ImageDataUrl(images.before, options.downscale, options.max_image_pixels);
  if (!before) return Fail(ErrorCode::kInvalidArgument, "before image: " + before.error().message);
  auto after = ImageDataUrl(images.after, options.downscale, options.max_image_pixels);
  if (!after) return Fail(ErrorCode::kInvalidArgument, "after image: " + after.error().message);

  auto image_part = [](std::string url) {
    return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", std::move(url)}}}};
  };
  json::array user_parts{json::object{{"type", "text"}, {"text", *user}}, image_part(std::move(*before)),
                         image_part(std::move(*after))};
  return json::object{
      {"messages", json::array{json::object{{"role", "system"}, {"content", *system}},
                               json::object{{"role", "user"}, {"content", std::move(user_parts)}}}},
      {"response_format", JsonSchemaResponseFormat(kPairSchemaName, PairAnalysisSchema())},
      {"max_tokens", options.max_tokens},
      {"temperature", options.temperature},
  };
}

PairAnalyzer::PairAnalyzer(ChatTransport& transport, Prompt prompt, PairAnalysisOptions options)
    : transport_(transport), prompt_(std::move(prompt)), options_(std::move(options)) {}

PairAnalysis PairAnalyzer::Analyze(const PairImages& images) const {
  PairAnalysis out;
  out.model = transport_.model();
  out.prompt_version = prompt_.VersionTag();
  auto request = BuildPairRequest(prompt_, images, options_);
  if (!request) {
    out.error = request.error().message;
    return out;
  }
  AskForStructuredAnswer(transport_, *request, [&](std::string_view content) -> std::string {
    auto answer = ParsePairAnswer(content, options_);
    if (!answer) return answer.error().message;
    out.answer = std::move(*answer);
    return {};
  }, out);
  if (!out.ok) return out;
  out.breed_is_new = out.answer.breed != kUnknownBreed && !InCatalog(out.answer.breed, options_.breeds);
  for (const auto& s : out.answer.services)
    if (!InCatalog(s, options_.services)) out.new_services.push_back(s);
  return out;
}

events::v1::PairAnalyzed ToPairAnalyzed(const PairAnalysis& a) {
  events::v1::PairAnalyzed e;
  e.set_ok(a.ok);
  e.set_error(a.error);
  if (a.ok) {
    e.set_breed(a.answer.breed);
    for (const auto& s : a.answer.services) e.add_services(s);
    e.set_is_grooming_pair(a.answer.is_grooming_pair);
    e.set_same_dog(a.answer.same_dog);
    e.set_confidence(a.answer.confidence);
    e.set_notes(a.answer.notes);
  }
  e.set_model(a.model);
  e.set_prompt_version(a.prompt_version);
  e.set_latency_ms(a.latency.count());
  e.set_prompt_tokens(a.prompt_tokens);
  e.set_completion_tokens(a.completion_tokens);
  e.set_raw_answer(a.raw_answer);
  return e;
}

}  // namespace furrsight::workers::inference
