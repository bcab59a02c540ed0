// The pictures a grooming salon's site shows besides its dogs: a logo, a
// banner, a landscape (the salon's view). They are the "unrelated images" a
// pair finder must leave alone. Drawn from a seed like the dogs
// (synthetic_dogs.hpp): deterministic, thread-safe, each call returns its own
// cv::Mat (8-bit BGR).
#pragma once

#include <cstdint>
#include <string>

#include <opencv2/core/mat.hpp>

namespace furrsight::workers::sample_site {

// A flat logo: a coloured badge with a paw print and the salon's name.
cv::Mat LogoPicture(std::uint32_t seed, const std::string& name, cv::Size size = {240, 80});
// A wide banner: a gradient, soft shapes and a slogan.
cv::Mat BannerPicture(std::uint32_t seed, const std::string& slogan, cv::Size size = {640, 160});
// A landscape photo: sky, sun, mountains, a lake, trees, grain.
cv::Mat LandscapePhoto(std::uint32_t seed, cv::Size size = {480, 360});

// Area-downscaled (or cubic-upscaled) copy at `size`.
cv::Mat ResizedTo(const cv::Mat& image, cv::Size size);

// `photo` with a small label ("#00042") stamped in a corner: a cheap way to make
// thousands of distinct images from a few drawings.
cv::Mat Stamped(const cv::Mat& photo, const std::string& label);

}  // namespace furrsight::workers::sample_site
