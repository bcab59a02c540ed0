#include "workers/vision/perceptual_hash.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr int kDctSide = 32;  // the image is reduced to kDctSide x kDctSide before the DCT
constexpr int kHashSide = 8;  // the kHashSide x kHashSide lowest frequencies make the hash

}  // namespace

base::Result<PerceptualHashValue> PerceptualHash(const cv::Mat& image) {
  auto gray = ToGray8(image);
  if (!gray) return std::unexpected(gray.error());
  try {
    cv::Mat small;
    cv::resize(*gray, small, cv::Size(kDctSide, kDctSide), 0, 0, cv::INTER_AREA);
    cv::Mat real;
    small.convertTo(real, CV_64F);
    cv::Mat frequencies;
    cv::dct(real, frequencies);
    std::array<double, kHashSide * kHashSide> low{};
    for (int y = 0; y < kHashSide; ++y)
      for (int x = 0; x < kHashSide; ++x) low[static_cast<std::size_t>(y * kHashSide + x)] = frequencies.at<double>(y, x);
    std::array<double, kHashSide * kHashSide> sorted = low;
    std::ranges::sort(sorted);
    const double median = (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
    PerceptualHashValue hash = 0;
    for (double coefficient : low) hash = (hash << 1) | (coefficient > median ? 1U : 0U);
    return hash;
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("computing the perceptual hash: {}", e.what()));
  }
}

int HammingDistance(PerceptualHashValue a, PerceptualHashValue b) { return std::popcount(a ^ b); }

std::string PerceptualHashHex(PerceptualHashValue hash) { return fmt::format("{:016x}", hash); }

std::optional<PerceptualHashValue> ParsePerceptualHashHex(std::string_view hex) {
  if (hex.size() != 16) return std::nullopt;
  PerceptualHashValue value = 0;
  for (char c : hex) {
    int digit = 0;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else return std::nullopt;
    value = (value << 4) | static_cast<PerceptualHashValue>(digit);
  }
  return value;
}

}  // namespace furrsight::workers::vision
