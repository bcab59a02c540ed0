#include "workers/inference/pair_analysis.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "events/base/base64.hpp"
#include "workers/inference/json_schema.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"
#include "workers/vision/image_header.hpp"

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;
namespace dogs = sample_site;

PairAnalysisOptions Options() {
  PairAnalysisOptions o;
  o.downscale.max_side = 256;
  o.services = {"Full Groom", "Nail Trim", "Bath"};
  o.breeds = {"Poodle", "Shih Tzu"};
  return o;
}

Prompt PairPrompt() { return *BuiltInPrompt(kPairPromptName, 1); }

TEST(PairAnalysisTest, SchemaIsInTheValidatorsSubsetAndStrictCompatible) {
  ASSERT_TRUE(CheckSchema(PairAnalysisSchema()));
  const auto& required = PairAnalysisSchema().at("required").as_array();
  // Strict structured outputs: every property required, nothing else allowed.
  EXPECT_EQ(required.size(), PairAnalysisSchema().at("properties").as_object().size());
  EXPECT_EQ(PairAnalysisSchema().at("additionalProperties"), false);
}

TEST(PairAnalysisTest, RequestCarriesBothImagesDownscaledInOneUserMessage) {
  const std::string before = dogs::Encode(dogs::DogPhoto(3, {3, false}, {0, 0}, {1200, 900}), ".png");
  const std::string after = dogs::Encode(dogs::AfterPhoto(3), ".jpg");
  auto request = BuildPairRequest(PairPrompt(), {before, after}, Options());
  ASSERT_TRUE(request) << request.error().message;

  const auto& messages = request->at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role"), "system");
  EXPECT_EQ(messages[1].at("role"), "user");
  const auto& parts = messages[1].at("content").as_array();
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].at("type"), "text");
  EXPECT_NE(std::string_view(parts[0].at("text").as_string()).find("  - Nail Trim"), std::string_view::npos);
  for (std::size_t i = 1; i <= 2; ++i) {
    EXPECT_EQ(parts[i].at("type"), "image_url");
    const std::string_view url = parts[i].at("image_url").at("url").as_string();
    constexpr std::string_view kPrefix = "data:image/jpeg;base64,";
    ASSERT_TRUE(url.starts_with(kPrefix));
    auto bytes = base::Base64Decode(url.substr(kPrefix.size()));
    ASSERT_TRUE(bytes);
    auto header = vision::SniffImageHeader(*bytes);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->format, vision::ImageFormat::kJpeg);
    EXPECT_EQ(std::max(header->width, header->height), 256);
  }
  const auto& format = request->at("response_format").as_object();
  EXPECT_EQ(format.at("type"), "json_schema");
  EXPECT_EQ(format.at("json_schema").at("name"), "pair_analysis");
  EXPECT_EQ(format.at("json_schema").at("strict"), true);
  EXPECT_EQ(format.at("json_schema").at("schema"), PairAnalysisSchema());
  EXPECT_FALSE(request->contains("guided_json"));
  EXPECT_FALSE(request->contains("model"));  // the transport adds it
}

TEST(PairAnalysisTest, UnreadableImageIsAnErrorNamingWhichOne) {
  const std::string good = dogs::Encode(dogs::BeforePhoto(1), ".jpg");
  auto r = BuildPairRequest(PairPrompt(), {good, "not an image"}, Options());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().message.starts_with("after image:")) << r.error().message;
}

TEST(PairAnalysisTest, ParseTakesCatalogSpellingAndDropsDuplicates) {
  auto a = ParsePairAnswer(
      R"({"is_grooming_pair":true,"same_dog":false,"breed":" poodle ","services":["full groom","Full Groom","teeth cleaning"],"confidence":0.8,"notes":"ok"})",
      Options());
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->is_grooming_pair);
  EXPECT_FALSE(a->same_dog);
  EXPECT_EQ(a->breed, "Poodle");
  EXPECT_EQ(a->services, (std::vector<std::string>{"Full Groom", "teeth cleaning"}));
  EXPECT_DOUBLE_EQ(a->confidence, 0.8);
}

TEST(PairAnalysisTest, ParseToleratesAFenceButNotBrokenJsonOrSchema) {
  EXPECT_TRUE(ParsePairAnswer(
      "```json\n{\"is_grooming_pair\":false,\"same_dog\":false,\"breed\":\"unknown\",\"services\":[],\"confidence\":0,\"notes\":\"\"}\n```",
      Options()));
  auto broken = ParsePairAnswer(R"({"is_grooming_pair": true, "bre)", Options());
  ASSERT_FALSE(broken);
  EXPECT_TRUE(broken.error().message.starts_with("invalid JSON")) << broken.error().message;
  auto out_of_range = ParsePairAnswer(
      R"({"is_grooming_pair":true,"same_dog":true,"breed":"Poodle","services":[],"confidence":1.5,"notes":""})", Options());
  ASSERT_FALSE(out_of_range);
  EXPECT_EQ(out_of_range.error().message, "schema violation: $.confidence: 1.5E0 is above the maximum 1");
  auto blank = ParsePairAnswer(
      R"({"is_grooming_pair":true,"same_dog":true,"breed":"  ","services":[],"confidence":1,"notes":""})", Options());
  EXPECT_FALSE(blank);
}

TEST(PairAnalysisTest, ToPairAnalyzedCarriesEveryField) {
  PairAnalysis a;
  a.ok = true;
  a.answer = {true, true, "Poodle", {"Bath", "ear plucking"}, 0.75, "clean"};
  a.raw_answer = "{...}";
  a.model = "m";
  a.prompt_version = "pair_analysis.v1";
  a.latency = std::chrono::milliseconds(1234);
  a.prompt_tokens = 900;
  a.completion_tokens = 60;
  const auto e = ToPairAnalyzed(a);
  EXPECT_TRUE(e.ok());
  EXPECT_EQ(e.breed(), "Poodle");
  ASSERT_EQ(e.services_size(), 2);
  EXPECT_EQ(e.services(1), "ear plucking");
  EXPECT_TRUE(e.is_grooming_pair());
  EXPECT_TRUE(e.same_dog());
  EXPECT_DOUBLE_EQ(e.confidence(), 0.75);
  EXPECT_EQ(e.notes(), "clean");
  EXPECT_EQ(e.model(), "m");
  EXPECT_EQ(e.prompt_version(), "pair_analysis.v1");
  EXPECT_EQ(e.latency_ms(), 1234);
  EXPECT_EQ(e.prompt_tokens(), 900);
  EXPECT_EQ(e.completion_tokens(), 60);
  EXPECT_EQ(e.raw_answer(), "{...}");

  PairAnalysis failed;
  failed.error = "answer invalid twice: invalid JSON";
  failed.raw_answer = "{\"is_gr";
  const auto f = ToPairAnalyzed(failed);
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.error(), failed.error);
  EXPECT_EQ(f.raw_answer(), failed.raw_answer);
  EXPECT_EQ(f.breed(), "");
}

}  // namespace
}  // namespace furrsight::workers::inference
