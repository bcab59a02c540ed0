#include "workers/vision/image_validator.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "events/base/sha256.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::workers::vision {
namespace {

using sample_site::Encode;

std::vector<std::string> Names(const std::vector<Rule>& rules) {
  std::vector<std::string> names;
  for (Rule r : rules) names.emplace_back(RuleName(r));
  return names;
}

TEST(ImageValidator, AGoodPhotoPassesEveryRuleWithItsMeasurements) {
  const std::string jpeg = Encode(sample_site::BeforePhoto(1), ".jpg");
  const ValidationReport report = ValidateImage(jpeg, ValidationRules{});
  ASSERT_TRUE(report.passed()) << report.failure->detail;
  EXPECT_EQ(Names(report.rules_applied),
            (std::vector<std::string>{"file_size", "format", "min_size", "max_pixels", "duplicate", "decode", "too_dark",
                                      "too_bright", "blur", "near_duplicate"}));
  const ImageMeasurements& m = report.measured;
  EXPECT_EQ(m.sha256, base::Sha256Hex(jpeg));
  EXPECT_EQ(m.file_size, static_cast<std::int64_t>(jpeg.size()));
  EXPECT_EQ(m.format, ImageFormat::kJpeg);
  EXPECT_EQ(m.width, 640);
  EXPECT_EQ(m.height, 480);
  ASSERT_TRUE(m.blur && m.brightness && m.phash);
  EXPECT_GT(*m.blur, 40);
  EXPECT_GT(*m.brightness, 35);
  EXPECT_LT(*m.brightness, 225);
}

struct Rejection {
  std::string name;
  std::string bytes;
  std::string rule;
  double value;
  double threshold;
  bool decoded;  // whether the pixels were looked at
};

TEST(ImageValidator, ReportsTheFirstFailedRuleWithValueAndThreshold) {
  const cv::Mat photo = sample_site::BeforePhoto(2);
  cv::Mat tiny;
  cv::resize(photo, tiny, {96, 72}, 0, 0, cv::INTER_AREA);
  std::string forged = Encode(photo, ".png");
  forged.replace(16, 8, std::string("\x00\x00\xc3\x50\x00\x00\xc3\x50", 8));  // 50000 x 50000
  std::string truncated = Encode(photo, ".jpg");
  truncated.resize(truncated.find("\xff\xda"));
  const std::vector<Rejection> cases = {
      {"html page", "<html>not found</html>", "format", 0, 0, false},
      {"tiny", Encode(tiny, ".jpg"), "min_size", 96, 100, false},
      {"decompression bomb", forged, "max_pixels", 2.5e9, 50e6, false},
      {"truncated", truncated, "decode", 0, 0, false},
      {"dark", Encode(sample_site::Darkened(photo), ".jpg"), "too_dark", -1, 35, true},
      {"bright", Encode(sample_site::Brightened(photo), ".jpg"), "too_bright", -1, 225, true},
      {"blurred", Encode(sample_site::Blurred(photo), ".jpg"), "blur", -1, 40, true},
  };
  for (const Rejection& c : cases) {
    SCOPED_TRACE(c.name);
    const ValidationReport report = ValidateImage(c.bytes, ValidationRules{});
    ASSERT_FALSE(report.passed());
    EXPECT_EQ(RuleName(report.failure->rule), c.rule) << report.failure->detail;
    if (c.value >= 0) {
      EXPECT_EQ(report.failure->value, c.value);
    }
    EXPECT_EQ(report.failure->threshold, c.threshold);
    EXPECT_FALSE(report.failure->detail.empty());
    EXPECT_EQ(report.measured.blur.has_value(), c.decoded);
    EXPECT_EQ(RuleName(report.rules_applied.back()), c.rule);
  }
}

TEST(ImageValidator, TheDecompressionBombIsRefusedFromItsHeader) {
  std::string forged = Encode(sample_site::BeforePhoto(2), ".jpg");
  const std::size_t sof = forged.find("\xff\xc0");
  forged.replace(sof + 5, 4, std::string("\xc3\x50\xc3\x50", 4));
  const ValidationReport report = ValidateImage(forged, ValidationRules{});
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.failure->rule, Rule::kMaxPixels);
  EXPECT_EQ(report.failure->detail,
            "the header declares 50000x50000 = 2500000000 pixels, more than the limit of 50000000; not decoded");
  EXPECT_EQ(report.measured.width, 50000);
  EXPECT_FALSE(report.measured.brightness.has_value());
}

TEST(ImageValidator, SizeAndFormatRules) {
  const std::string png = Encode(sample_site::BeforePhoto(3), ".png");
  ValidationRules rules;
  rules.max_file_size = 1000;
  ValidationReport big = ValidateImage(png, rules);
  ASSERT_FALSE(big.passed());
  EXPECT_EQ(big.failure->rule, Rule::kFileSize);
  EXPECT_EQ(big.failure->value, static_cast<double>(png.size()));
  EXPECT_EQ(big.failure->threshold, 1000);

  rules = {};
  rules.formats = {ImageFormat::kJpeg};
  ValidationReport format = ValidateImage(png, rules);
  ASSERT_FALSE(format.passed());
  EXPECT_EQ(format.failure->rule, Rule::kFormat);
  EXPECT_EQ(format.failure->detail, "png is not an allowed format (allowed: jpeg)");
  EXPECT_EQ(format.measured.format, ImageFormat::kPng);

  rules = {};
  rules.min_height = 481;
  ValidationReport tall = ValidateImage(png, rules);
  ASSERT_FALSE(tall.passed());
  EXPECT_EQ(tall.failure->detail, "height 480 is below the minimum of 481");
}

TEST(ImageValidator, DuplicatesExactAndNear) {
  const cv::Mat photo = sample_site::BeforePhoto(4);
  const std::string original = Encode(photo, ".jpg", 92);
  SeenImages seen;
  const ValidationReport first = ValidateImage(original, ValidationRules{}, seen);
  ASSERT_TRUE(first.passed());
  seen.Add(first.measured.sha256, first.measured.phash);
  EXPECT_EQ(seen.size(), 1U);

  const ValidationReport again = ValidateImage(original, ValidationRules{}, seen);
  ASSERT_FALSE(again.passed());
  EXPECT_EQ(again.failure->rule, Rule::kDuplicate);
  EXPECT_FALSE(again.measured.blur.has_value());  // refused before decoding

  // The same picture re-encoded: other bytes, the same perceptual hash (or nearly).
  const ValidationReport copy = ValidateImage(Encode(photo, ".webp", 70), ValidationRules{}, seen);
  ASSERT_FALSE(copy.passed());
  EXPECT_EQ(copy.failure->rule, Rule::kNearDuplicate);
  EXPECT_LE(copy.failure->value, 2);
  EXPECT_EQ(copy.failure->threshold, kDefaultNearDuplicateDistance);
  EXPECT_NE(copy.failure->detail.find(first.measured.sha256), std::string::npos);

  // The groomed dog in the same room is not a near duplicate of its before photo.
  const ValidationReport after = ValidateImage(Encode(sample_site::AfterPhoto(4), ".jpg"), ValidationRules{}, seen);
  EXPECT_TRUE(after.passed()) << after.failure->detail;

  ValidationRules lenient;
  lenient.reject_duplicates = false;
  lenient.reject_near_duplicates = false;
  const ValidationReport allowed = ValidateImage(original, lenient, seen);
  EXPECT_TRUE(allowed.passed());
  EXPECT_EQ(Names(allowed.rules_applied),
            (std::vector<std::string>{"file_size", "format", "min_size", "max_pixels", "decode", "too_dark",
                                      "too_bright", "blur"}));
}

TEST(ImageValidator, SeenImagesFindsTheClosestHash) {
  SeenImages seen;
  seen.Add("a", 0b1111);
  seen.Add("b", 0b0111);
  seen.Add("c", std::nullopt);
  EXPECT_TRUE(seen.ContainsSha256("c"));
  EXPECT_FALSE(seen.ContainsSha256("d"));
  auto near = seen.FindNear(0b0011, 2);
  ASSERT_TRUE(near);
  EXPECT_EQ(near->sha256, "b");
  EXPECT_EQ(near->distance, 1);
  EXPECT_FALSE(seen.FindNear(~0ULL, 10));
}

}  // namespace
}  // namespace furrsight::workers::vision
