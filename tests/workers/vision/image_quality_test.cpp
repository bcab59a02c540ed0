#include "workers/vision/image_quality.hpp"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "workers/sample_site/synthetic_dogs.hpp"
#include "workers/vision/validation_rules.hpp"

namespace furrsight::workers::vision {
namespace {

// The default thresholds against 20 generated photos and their damaged copies.
TEST(ImageQuality, DefaultThresholdsSeparateSharpFromBlurredAndExposures) {
  const ValidationRules rules;
  double sharpest_blurred = 0;
  double bluriest_sharp = 1e9;
  double brightest_dark = 0;
  double darkest_bright = 255;
  double min_normal = 255;
  double max_normal = 0;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const cv::Mat photo = sample_site::BeforePhoto(seed);
    auto normal = MeasureQuality(photo);
    auto blurred = MeasureQuality(sample_site::Blurred(photo, 2.0));
    auto dark = MeasureQuality(sample_site::Darkened(photo));
    auto bright = MeasureQuality(sample_site::Brightened(photo));
    ASSERT_TRUE(normal && blurred && dark && bright);
    bluriest_sharp = std::min(bluriest_sharp, normal->blur);
    sharpest_blurred = std::max(sharpest_blurred, blurred->blur);
    min_normal = std::min(min_normal, normal->brightness);
    max_normal = std::max(max_normal, normal->brightness);
    brightest_dark = std::max(brightest_dark, dark->brightness);
    darkest_bright = std::min(darkest_bright, bright->brightness);
  }
  std::printf("blur (variance of the Laplacian): sharp >= %.1f, gaussian sigma 2 <= %.1f; threshold %.1f\n",
              bluriest_sharp, sharpest_blurred, rules.min_blur);
  std::printf("mean luma: dark <= %.1f < [%.1f, %.1f] normal < bright >= %.1f; thresholds %.1f / %.1f\n",
              brightest_dark, min_normal, max_normal, darkest_bright, rules.min_brightness, rules.max_brightness);
  EXPECT_GT(bluriest_sharp, rules.min_blur);
  EXPECT_LT(sharpest_blurred, rules.min_blur);
  EXPECT_LT(brightest_dark, rules.min_brightness);
  EXPECT_GT(min_normal, rules.min_brightness);
  EXPECT_LT(max_normal, rules.max_brightness);
  EXPECT_GT(darkest_bright, rules.max_brightness);
}

TEST(ImageQuality, BlurIsMeasuredAtAFixedScale) {
  // The same picture at 4x the pixels reads about as sharp, not 16x blurrier.
  const cv::Mat photo = sample_site::BeforePhoto(3);
  cv::Mat large;
  cv::resize(photo, large, {}, 4, 4, cv::INTER_CUBIC);
  cv::Mat reference;
  cv::resize(photo, reference, {kQualityAnalysisSide, kQualityAnalysisSide * 3 / 4}, 0, 0, cv::INTER_AREA);
  const double at_scale = LaplacianVariance(reference).value();
  const double from_large = LaplacianVariance(large).value();
  EXPECT_NEAR(from_large / at_scale, 1.0, 0.35) << from_large << " vs " << at_scale;
}

TEST(ImageQuality, FlatImagesAndKnownValues) {
  const cv::Mat grey(100, 100, CV_8UC3, cv::Scalar(50, 100, 200));
  auto q = MeasureQuality(grey);
  ASSERT_TRUE(q);
  EXPECT_DOUBLE_EQ(q->blur, 0.0);
  // BT.601: 0.114 * 50 + 0.587 * 100 + 0.299 * 200 = 124.2 (OpenCV's fixed point rounds to 124).
  EXPECT_NEAR(q->brightness, 124.2, 0.6);
  EXPECT_FALSE(MeasureQuality(cv::Mat()));
}

}  // namespace
}  // namespace furrsight::workers::vision
