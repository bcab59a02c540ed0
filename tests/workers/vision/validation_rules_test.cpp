#include "workers/vision/validation_rules.hpp"

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace furrsight::workers::vision {
namespace {

std::string ErrorOf(std::string_view json) {
  auto rules = ParseValidationRulesText(json);
  return rules ? "(parsed)" : rules.error().message;
}

TEST(ValidationRules, EmptyAndNullMeanTheDefaults) {
  for (std::string_view json : {"{}", "null"}) {
    auto rules = ParseValidationRulesText(json);
    ASSERT_TRUE(rules) << rules.error().message;
    EXPECT_EQ(rules->min_width, 100);
    EXPECT_EQ(rules->min_height, 100);
    EXPECT_EQ(rules->formats.size(), 4U);
    EXPECT_EQ(rules->max_file_size, 20 * 1024 * 1024);
    EXPECT_EQ(rules->max_pixels, 50'000'000);
    EXPECT_EQ(rules->min_blur, 40.0);
    EXPECT_EQ(rules->min_brightness, 35.0);
    EXPECT_EQ(rules->max_brightness, 225.0);
    EXPECT_TRUE(rules->reject_duplicates);
    EXPECT_TRUE(rules->reject_near_duplicates);
    EXPECT_EQ(rules->near_duplicate_distance, 4);
  }
}

TEST(ValidationRules, ParsesPixCrawlersExampleAndEveryField) {
  auto seed = ParseValidationRulesText(R"({"min_width": 100, "min_height": 100})");
  ASSERT_TRUE(seed);
  EXPECT_EQ(seed->min_width, 100);

  auto all = ParseValidationRulesText(R"({
      "min_width": 512, "min_height": 384.0, "formats": ["JPG", "png", "jpeg"], "max_file_size": 1048576,
      "max_pixels": 12000000, "min_blur": 12.5, "min_brightness": 20, "max_brightness": 240,
      "reject_duplicates": false, "reject_near_duplicates": false, "near_duplicate_distance": 8})");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->min_width, 512);
  EXPECT_EQ(all->min_height, 384);
  EXPECT_EQ(all->formats, (std::vector<ImageFormat>{ImageFormat::kJpeg, ImageFormat::kPng}));
  EXPECT_EQ(all->max_file_size, 1048576);
  EXPECT_EQ(all->max_pixels, 12'000'000);
  EXPECT_EQ(all->min_blur, 12.5);
  EXPECT_EQ(all->min_brightness, 20.0);
  EXPECT_EQ(all->max_brightness, 240.0);
  EXPECT_FALSE(all->reject_duplicates);
  EXPECT_FALSE(all->reject_near_duplicates);
  EXPECT_EQ(all->near_duplicate_distance, 8);
}

TEST(ValidationRules, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(R"({"min_width": "100"})"),
            R"(validation_rules.min_width must be a whole number from 1 to 2147483647 (got "100"))");
  EXPECT_EQ(ErrorOf(R"({"min_height": 0})"),
            "validation_rules.min_height must be a whole number from 1 to 2147483647 (got 0)");
  EXPECT_EQ(ErrorOf(R"({"min_width": 99.5})"),
            "validation_rules.min_width must be a whole number from 1 to 2147483647 (got 9.95E1)");
  EXPECT_EQ(ErrorOf(R"({"max_file_size": -1})"),
            "validation_rules.max_file_size must be a whole number from 1 to 9223372036854775807 (got -1)");
  EXPECT_EQ(ErrorOf(R"({"min_brightness": 300})"), "validation_rules.min_brightness must be a number from 0 to 255 (got 300)");
  EXPECT_EQ(ErrorOf(R"({"reject_duplicates": "yes"})"), R"(validation_rules.reject_duplicates must be true or false (got "yes"))");
  EXPECT_EQ(ErrorOf(R"({"near_duplicate_distance": 65})"),
            "validation_rules.near_duplicate_distance must be a whole number from 0 to 64 (got 65)");
  EXPECT_EQ(ErrorOf(R"({"formats": []})"),
            "validation_rules.formats must be a non-empty array of jpeg, jpg, png, webp, bmp (got [])");
  EXPECT_EQ(ErrorOf(R"({"formats": ["png", "tiff"]})"),
            R"(validation_rules.formats must be a non-empty array of jpeg, jpg, png, webp, bmp (got "tiff"))");
  EXPECT_EQ(ErrorOf(R"({"formats": ["gif"]})"),
            "validation_rules.formats cannot allow gif: OpenCV 4.6 has no GIF reader, so no gif could pass");
  EXPECT_EQ(ErrorOf(R"({"min_brightness": 200, "max_brightness": 100})"),
            "validation_rules.min_brightness (200) must be below validation_rules.max_brightness (100)");
  EXPECT_EQ(ErrorOf(R"({"min_widht": 100})"),
            "validation_rules.min_widht is not a known rule; known: min_width, min_height, formats, max_file_size, "
            "max_pixels, min_blur, min_brightness, max_brightness, reject_duplicates, reject_near_duplicates, "
            "near_duplicate_distance");
  EXPECT_EQ(ErrorOf("[1, 2]"), "validation_rules must be a JSON object (got [1,2])");
  EXPECT_EQ(ErrorOf("{\"min_width\": "), "validation_rules is not valid JSON: incomplete JSON");
}

TEST(ValidationRules, ToJsonParsesBackToTheSameRules) {
  ValidationRules rules;
  rules.min_width = 640;
  rules.formats = {ImageFormat::kWebp};
  rules.min_blur = 0;
  rules.near_duplicate_distance = 0;
  const std::string json = boost::json::serialize(ToJson(rules));
  auto back = ParseValidationRulesText(json);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(boost::json::serialize(ToJson(*back)), json);
  EXPECT_EQ(back->min_width, 640);
  EXPECT_EQ(back->formats, std::vector<ImageFormat>{ImageFormat::kWebp});
}

}  // namespace
}  // namespace furrsight::workers::vision
