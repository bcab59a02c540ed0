#include "workers/vision/perceptual_hash.hpp"

#include <algorithm>
#include <bit>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "workers/sample_site/synthetic_dogs.hpp"
#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::vision {
namespace {

PerceptualHashValue HashOf(const cv::Mat& image) { return PerceptualHash(image).value(); }

cv::Mat Reencoded(const cv::Mat& image, const char* extension, int quality) {
  return DecodeImage(sample_site::Encode(image, extension, quality)).value().pixels;
}

TEST(PerceptualHash, CopiesStayCloseAndDifferentPhotosFar) {
  int worst_copy = 0;
  std::vector<PerceptualHashValue> originals;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const cv::Mat photo = sample_site::BeforePhoto(seed);
    const PerceptualHashValue hash = HashOf(photo);
    originals.push_back(hash);
    cv::Mat half;
    cv::resize(photo, half, {}, 0.5, 0.5, cv::INTER_AREA);
    for (const cv::Mat& copy : {Reencoded(photo, ".jpg", 90), Reencoded(photo, ".jpg", 40), Reencoded(photo, ".webp", 60),
                                Reencoded(photo, ".png", 0), half})
      worst_copy = std::max(worst_copy, HammingDistance(hash, HashOf(copy)));
  }
  int closest_different = 64;
  for (std::size_t i = 0; i < originals.size(); ++i)
    for (std::size_t j = i + 1; j < originals.size(); ++j)
      closest_different = std::min(closest_different, HammingDistance(originals[i], originals[j]));
  std::printf("pHash distance: re-encoded or halved copies <= %d; 190 pairs of different photos >= %d; "
              "near-duplicate at <= %d\n",
              worst_copy, closest_different, kDefaultNearDuplicateDistance);
  EXPECT_LE(worst_copy, 2);
  EXPECT_LE(worst_copy, kDefaultNearDuplicateDistance);
  EXPECT_GT(closest_different, 2 * kDefaultNearDuplicateDistance);  // well clear of the threshold
}

TEST(PerceptualHash, IsDeterministicAndHalfOnes) {
  const cv::Mat photo = sample_site::BeforePhoto(9);
  const PerceptualHashValue hash = HashOf(photo);
  EXPECT_EQ(hash, HashOf(photo.clone()));
  EXPECT_EQ(std::popcount(hash), 32);  // above the median of 64: exactly half (no ties in a photo)
}

TEST(PerceptualHash, HexRoundTrip) {
  EXPECT_EQ(PerceptualHashHex(0x0123456789abcdefULL), "0123456789abcdef");
  EXPECT_EQ(PerceptualHashHex(0xfULL), "000000000000000f");
  EXPECT_EQ(ParsePerceptualHashHex("0123456789abcdef"), 0x0123456789abcdefULL);
  EXPECT_EQ(ParsePerceptualHashHex("0123456789ABCDEF"), std::nullopt);
  EXPECT_EQ(ParsePerceptualHashHex("123"), std::nullopt);
  EXPECT_EQ(HammingDistance(0, ~0ULL), 64);
  EXPECT_EQ(HammingDistance(0b1011, 0b0001), 2);
}

}  // namespace
}  // namespace furrsight::workers::vision
