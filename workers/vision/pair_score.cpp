#include "workers/vision/pair_score.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "workers/vision/image_codec.hpp"
#include "workers/vision/perceptual_hash.hpp"

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

// Colour histogram: images reduced to this longest side, then H x S x V bins
// (OpenCV's 8-bit HSV: H 0-179, S and V 0-255), Gaussian centre weight.
constexpr int kHistogramSide = 256;
constexpr int kHueBins = 18;
constexpr int kSaturationBins = 4;
constexpr int kValueBins = 4;
constexpr double kCentreSigma = 0.25;  // of the width/height: the weight is 0.14 at the edges

// ORB: the images reduced to this longest side; fixed parameters, no random source.
constexpr int kOrbSide = 512;
constexpr int kOrbFeatures = 500;
constexpr float kOrbScaleFactor = 1.2F;
constexpr int kOrbLevels = 8;
constexpr int kOrbEdgeThreshold = 31;
constexpr int kOrbPatchSize = 31;
constexpr int kOrbFastThreshold = 20;
constexpr float kLoweRatio = 0.75F;  // best match distance < kLoweRatio * second best

cv::Mat Shrink(const cv::Mat& image, int longest_side) {
  const int longest = std::max(image.cols, image.rows);
  if (longest <= longest_side) return image;
  const double scale = static_cast<double>(longest_side) / longest;
  cv::Mat small;
  cv::resize(image, small,
             cv::Size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(image.rows * scale)))),
             0, 0, cv::INTER_AREA);
  return small;
}

// Centre-weighted, normalised (sums to 1) HSV histogram of a BGR image.
std::vector<double> WeightedHsvHistogram(const cv::Mat& bgr) {
  cv::Mat hsv;
  cv::cvtColor(Shrink(bgr, kHistogramSide), hsv, cv::COLOR_BGR2HSV);
  std::vector<double> column_weight(static_cast<std::size_t>(hsv.cols));
  for (int x = 0; x < hsv.cols; ++x) {
    const double u = ((x + 0.5) / hsv.cols - 0.5) / kCentreSigma;
    column_weight[static_cast<std::size_t>(x)] = std::exp(-0.5 * u * u);
  }
  std::vector<double> histogram(kHueBins * kSaturationBins * kValueBins, 0.0);
  double total = 0;
  for (int y = 0; y < hsv.rows; ++y) {
    const double v = ((y + 0.5) / hsv.rows - 0.5) / kCentreSigma;
    const double row_weight = std::exp(-0.5 * v * v);
    const auto* row = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      const int h = std::min(row[x][0] * kHueBins / 180, kHueBins - 1);
      const int s = row[x][1] * kSaturationBins / 256;
      const int val = row[x][2] * kValueBins / 256;
      const double w = row_weight * column_weight[static_cast<std::size_t>(x)];
      histogram[static_cast<std::size_t>((h * kSaturationBins + s) * kValueBins + val)] += w;
      total += w;
    }
  }
  for (double& bin : histogram) bin /= total;
  return histogram;
}

struct Features {
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
};

Features DetectOrb(const cv::Mat& gray) {
  cv::Ptr<cv::ORB> orb = cv::ORB::create(kOrbFeatures, kOrbScaleFactor, kOrbLevels, kOrbEdgeThreshold, 0, 2,
                                         cv::ORB::HARRIS_SCORE, kOrbPatchSize, kOrbFastThreshold);
  Features f;
  orb->detectAndCompute(Shrink(gray, kOrbSide), cv::noArray(), f.keypoints, f.descriptors);
  return f;
}

}  // namespace

base::Result<double> HistogramSimilarity(const cv::Mat& a, const cv::Mat& b) {
  auto bgr_a = ToBgr8(a, "first image");
  if (!bgr_a) return std::unexpected(bgr_a.error());
  auto bgr_b = ToBgr8(b, "second image");
  if (!bgr_b) return std::unexpected(bgr_b.error());
  try {
    const std::vector<double> p = WeightedHsvHistogram(*bgr_a);
    const std::vector<double> q = WeightedHsvHistogram(*bgr_b);
    double coefficient = 0;  // Bhattacharyya coefficient
    for (std::size_t i = 0; i < p.size(); ++i) coefficient += std::sqrt(p[i] * q[i]);
    return 1.0 - std::sqrt(std::max(0.0, 1.0 - coefficient));
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("colour histograms: {}", e.what()));
  }
}

base::Result<OrbMatch> OrbMatchRatio(const cv::Mat& a, const cv::Mat& b) {
  auto gray_a = ToGray8(a, "first image");
  if (!gray_a) return std::unexpected(gray_a.error());
  auto gray_b = ToGray8(b, "second image");
  if (!gray_b) return std::unexpected(gray_b.error());
  try {
    const Features fa = DetectOrb(*gray_a);
    const Features fb = DetectOrb(*gray_b);
    OrbMatch result;
    result.keypoints_a = static_cast<int>(fa.keypoints.size());
    result.keypoints_b = static_cast<int>(fb.keypoints.size());
    if (result.keypoints_a < kMinOrbKeypoints || result.keypoints_b < kMinOrbKeypoints) return result;
    cv::BFMatcher matcher(cv::NORM_HAMMING, false);
    std::vector<std::vector<cv::DMatch>> forward;
    matcher.knnMatch(fa.descriptors, fb.descriptors, forward, 2);
    std::vector<cv::DMatch> backward;
    matcher.match(fb.descriptors, fa.descriptors, backward);
    for (const auto& candidates : forward) {
      if (candidates.size() < 2) continue;
      const cv::DMatch& best = candidates[0];
      if (best.distance >= kLoweRatio * candidates[1].distance) continue;
      if (backward[static_cast<std::size_t>(best.trainIdx)].trainIdx != best.queryIdx) continue;
      ++result.good_matches;
    }
    result.ratio = static_cast<double>(result.good_matches) / std::min(result.keypoints_a, result.keypoints_b);
    return result;
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("ORB matching: {}", e.what()));
  }
}

base::Result<PairScore> ScorePair(const cv::Mat& before, const cv::Mat& after, const PairScoreOptions& options) {
  PairScore score;
  auto histogram = HistogramSimilarity(before, after);
  if (!histogram) return std::unexpected(histogram.error());
  score.histogram = *histogram;
  auto orb = OrbMatchRatio(before, after);
  if (!orb) return std::unexpected(orb.error());
  score.orb = *orb;
  auto hash_before = PerceptualHash(before);
  if (!hash_before) return std::unexpected(hash_before.error());
  auto hash_after = PerceptualHash(after);
  if (!hash_after) return std::unexpected(hash_after.error());
  score.phash_distance = HammingDistance(*hash_before, *hash_after);
  score.near_duplicate = score.phash_distance <= options.near_duplicate_distance;
  const double orb_part = options.orb_saturation > 0 ? std::min(1.0, score.orb.ratio / options.orb_saturation) : 0.0;
  score.composite = options.histogram_weight * score.histogram + options.orb_weight * orb_part;
  score.same_dog = !score.near_duplicate && score.composite >= options.threshold;
  return score;
}

std::map<std::string, double> ScoreMap(const PairScore& score) {
  return {
      {"histogram", score.histogram},
      {"orb", score.orb.ratio},
      {"phash_distance", static_cast<double>(score.phash_distance)},
      {"composite", score.composite},
  };
}

}  // namespace furrsight::workers::vision
