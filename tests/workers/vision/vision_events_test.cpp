#include "workers/vision/vision_events.hpp"

#include <gtest/gtest.h>

#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::workers::vision {
namespace {

TEST(VisionEvents, APassedImageBecomesImageValidated) {
  const ValidationReport report = ValidateImage(sample_site::Encode(sample_site::BeforePhoto(1), ".jpg"), ValidationRules{});
  ASSERT_TRUE(report.passed());
  const auto event = ToImageEvent(report);
  ASSERT_TRUE(std::holds_alternative<events::v1::ImageValidated>(event));
  const auto& validated = std::get<events::v1::ImageValidated>(event);
  EXPECT_EQ(validated.rules_size(), 10);
  EXPECT_EQ(validated.rules(0), "file_size");
  EXPECT_EQ(validated.rules(8), "blur");
  EXPECT_EQ(validated.width(), 640);
  EXPECT_EQ(validated.height(), 480);
  EXPECT_EQ(validated.blur(), *report.measured.blur);
  EXPECT_EQ(validated.brightness(), *report.measured.brightness);
  EXPECT_EQ(validated.phash(), PerceptualHashHex(*report.measured.phash));
  EXPECT_EQ(validated.phash().size(), 16U);
}

TEST(VisionEvents, AFailedImageBecomesImageRejected) {
  const ValidationReport report =
      ValidateImage(sample_site::Encode(sample_site::Darkened(sample_site::BeforePhoto(1)), ".png"), ValidationRules{});
  ASSERT_FALSE(report.passed());
  const auto event = ToImageEvent(report);
  ASSERT_TRUE(std::holds_alternative<events::v1::ImageRejected>(event));
  const auto& rejected = std::get<events::v1::ImageRejected>(event);
  EXPECT_EQ(rejected.rule(), "too_dark");
  EXPECT_EQ(rejected.value(), report.failure->value);
  EXPECT_EQ(rejected.threshold(), 35.0);
  EXPECT_EQ(rejected.detail(), report.failure->detail);
}

TEST(VisionEvents, PairScoresFillPairProposed) {
  PairScore score;
  score.histogram = 0.7;
  score.orb.ratio = 0.05;
  score.phash_distance = 20;
  score.composite = 0.6;
  events::v1::PairProposed proposed;
  SetPairScores(score, proposed);
  EXPECT_EQ(proposed.similarity(), 0.6);
  EXPECT_EQ(proposed.scores().size(), 4);
  EXPECT_EQ(proposed.scores().at("orb"), 0.05);
  EXPECT_EQ(proposed.scores().at("phash_distance"), 20.0);
}

}  // namespace
}  // namespace furrsight::workers::vision
