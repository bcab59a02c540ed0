#include "workers/vision/image_quality.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

// The grey image, area-downscaled so its longest side is at most kQualityAnalysisSide.
cv::Mat AnalysisGray(const cv::Mat& gray) {
  const int longest = std::max(gray.cols, gray.rows);
  if (longest <= kQualityAnalysisSide) return gray;
  const double scale = static_cast<double>(kQualityAnalysisSide) / longest;
  cv::Mat small;
  cv::resize(gray, small,
             cv::Size(std::max(1, static_cast<int>(std::lround(gray.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(gray.rows * scale)))),
             0, 0, cv::INTER_AREA);
  return small;
}

}  // namespace

base::Result<double> LaplacianVariance(const cv::Mat& image) {
  auto gray = ToGray8(image);
  if (!gray) return std::unexpected(gray.error());
  try {
    cv::Mat laplacian;
    cv::Laplacian(AnalysisGray(*gray), laplacian, CV_64F, 1);
    cv::Scalar mean;
    cv::Scalar stddev;
    cv::meanStdDev(laplacian, mean, stddev);
    return stddev[0] * stddev[0];
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("measuring blur: {}", e.what()));
  }
}

base::Result<double> MeanLuma(const cv::Mat& image) {
  auto gray = ToGray8(image);
  if (!gray) return std::unexpected(gray.error());
  try {
    return cv::mean(*gray)[0];
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("measuring brightness: {}", e.what()));
  }
}

base::Result<ImageQuality> MeasureQuality(const cv::Mat& image) {
  auto blur = LaplacianVariance(image);
  if (!blur) return std::unexpected(blur.error());
  auto brightness = MeanLuma(image);
  if (!brightness) return std::unexpected(brightness.error());
  return ImageQuality{*blur, *brightness};
}

}  // namespace furrsight::workers::vision
