// Image quality measures used by validation: sharpness (variance of the
// Laplacian) and exposure (mean luma).
//
// Sharpness is measured on a copy whose longest side is at most
// kQualityAnalysisSide (area-downscaled, never enlarged), so one threshold
// suits a 600 px thumbnail and a 6000 px photo alike: without it, the same
// picture at ten times the resolution reads ten times blurrier.
//
// Free functions over the caller's image (not modified); thread-safe.
#pragma once

#include <opencv2/core/mat.hpp>

#include "events/base/error.hpp"

namespace furrsight::workers::vision {

inline constexpr int kQualityAnalysisSide = 512;

struct ImageQuality {
  double blur = 0;        // variance of the 3x3 Laplacian of the grey image; higher is sharper
  double brightness = 0;  // mean luma (BT.601: 0.299 R + 0.587 G + 0.114 B), 0-255
};

// Accepts what ToBgr8 accepts (image_codec.hpp).
base::Result<double> LaplacianVariance(const cv::Mat& image);
base::Result<double> MeanLuma(const cv::Mat& image);
base::Result<ImageQuality> MeasureQuality(const cv::Mat& image);

}  // namespace furrsight::workers::vision
