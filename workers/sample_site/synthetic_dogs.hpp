// Synthetic dog photographs: a room, a dog in it (body, head, ears, legs,
// tail, markings, fur strands), the same dog groomed (a trimmed, tighter
// outline, shorter strands, a slightly cleaner colour) and the usual failures
// (blurred, dark, bright, tiny), plus composites. The sample site draws its
// photos with these; the vision tests use them as their images.
// Everything is drawn from a seed with cv::RNG, so a caller sees the same
// pixels on every run. Each call builds its own RNGs and shares nothing, so
// the functions are thread-safe. Results are owned cv::Mats (no sharing).
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core/mat.hpp>

namespace furrsight::workers::sample_site {

inline constexpr int kPhotoWidth = 640;
inline constexpr int kPhotoHeight = 480;

// One dog: its look is fixed by `seed`; groomed draws the same dog after a trim.
struct Dog {
  std::uint32_t seed = 1;
  bool groomed = false;
};

// A room (wall, floor, furniture) from `scene_seed` with the dog in it. The
// camera offset shifts the whole view by a few pixels (a second shot of the
// same scene is never pixel-aligned with the first).
cv::Mat DogPhoto(std::uint32_t scene_seed, const Dog& dog, cv::Point camera_offset = {0, 0},
                 cv::Size size = {kPhotoWidth, kPhotoHeight});

// A before/after pair of dog `seed` in scene `seed` (second shot slightly moved).
cv::Mat BeforePhoto(std::uint32_t seed);
cv::Mat AfterPhoto(std::uint32_t seed);
// The same groomed dog photographed somewhere else (another room).
cv::Mat AfterPhotoElsewhere(std::uint32_t seed);

cv::Mat Blurred(const cv::Mat& image, double sigma = 4.0);
cv::Mat Darkened(const cv::Mat& image, double factor = 0.12);
cv::Mat Brightened(const cv::Mat& image, double towards_white = 0.88);

// Side by side (or stacked) at the same height (width), with a divider of
// `divider` pixels in `divider_colour`, or none.
cv::Mat SideBySide(const cv::Mat& left, const cv::Mat& right, int divider, cv::Scalar divider_colour = {255, 255, 255});
cv::Mat TopBottom(const cv::Mat& top, const cv::Mat& bottom, int divider, cv::Scalar divider_colour = {255, 255, 255});

std::string Encode(const cv::Mat& image, const std::string& extension, int quality = 90);

}  // namespace furrsight::workers::sample_site
