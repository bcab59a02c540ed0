// A 64-bit perceptual hash (DCT pHash) and the Hamming distance between two.
//
// PerceptualHash: grey image -> 32x32 (area interpolation) -> 2-D DCT in
// double precision -> the 8x8 lowest frequencies -> bit i (row-major, most
// significant first) is 1 when coefficient i is above the median of the 64.
// A re-encoded or resized copy keeps almost every bit; an unrelated image
// differs in about half of them (distance ~32).
//
// Free functions; thread-safe. Deterministic: the same pixels give the same hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "events/base/error.hpp"

namespace furrsight::workers::vision {

using PerceptualHashValue = std::uint64_t;

// At or below this Hamming distance two images are the same picture (a
// re-encode or a resize measures 0-2, a before/after in one spot 8 or more;
// docs/vision.md). Both the near_duplicate validation rule and the pair
// check use it by default.
inline constexpr int kDefaultNearDuplicateDistance = 4;

// Accepts what ToBgr8 accepts (image_codec.hpp).
base::Result<PerceptualHashValue> PerceptualHash(const cv::Mat& image);

// Number of differing bits, 0-64.
int HammingDistance(PerceptualHashValue a, PerceptualHashValue b);

// 16 lower-case hex digits, as ImageValidated.phash stores it; and back.
std::string PerceptualHashHex(PerceptualHashValue hash);
std::optional<PerceptualHashValue> ParsePerceptualHashHex(std::string_view hex);

}  // namespace furrsight::workers::vision
