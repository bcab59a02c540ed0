#include "workers/sample_site/site_pictures.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace furrsight::workers::sample_site {
namespace {

// SplitMix64 over (seed, purpose) as in synthetic_dogs.cpp, so nearby seeds differ.
cv::RNG Rng(std::uint64_t seed, std::uint64_t purpose) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + purpose * 0xD1B54A32D192ED03ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return cv::RNG(z ^ (z >> 31));
}

cv::Scalar Colour(cv::RNG& rng, int low, int high) {
  return {static_cast<double>(rng.uniform(low, high)), static_cast<double>(rng.uniform(low, high)),
          static_cast<double>(rng.uniform(low, high))};
}

void PutTextFitted(cv::Mat& canvas, const std::string& text, cv::Rect box, cv::Scalar colour, int thickness) {
  int baseline = 0;
  const cv::Size at_one = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 1.0, thickness, &baseline);
  const double scale = std::max(0.2, std::min(static_cast<double>(box.width) / std::max(1, at_one.width),
                                              static_cast<double>(box.height) / std::max(1, at_one.height + baseline)));
  const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  const cv::Point origin(box.x + (box.width - size.width) / 2, box.y + (box.height + size.height) / 2);
  cv::putText(canvas, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv::LINE_AA);
}

void Paw(cv::Mat& canvas, cv::Point centre, int r, cv::Scalar colour) {
  cv::ellipse(canvas, centre, {r, r * 4 / 5}, 0, 0, 360, colour, cv::FILLED, cv::LINE_AA);
  for (int i = 0; i < 4; ++i) {
    const double a = CV_PI * (1.15 + 0.23 * i);
    const cv::Point toe = centre + cv::Point(static_cast<int>(1.25 * r * std::cos(a)), static_cast<int>(1.25 * r * std::sin(a)));
    cv::circle(canvas, toe, std::max(2, r * 2 / 5), colour, cv::FILLED, cv::LINE_AA);
  }
}

}  // namespace

cv::Mat LogoPicture(std::uint32_t seed, const std::string& name, cv::Size size) {
  cv::RNG rng = Rng(seed, 11);
  cv::Mat canvas(size, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar badge = Colour(rng, 30, 200);
  const int r = size.height / 2 - 4;
  cv::circle(canvas, {r + 4, size.height / 2}, r, badge, cv::FILLED, cv::LINE_AA);
  Paw(canvas, {r + 4, size.height / 2 + r / 6}, r / 3, {255, 255, 255});
  PutTextFitted(canvas, name, cv::Rect(2 * r + 12, size.height / 4, size.width - 2 * r - 18, size.height / 2), badge * 0.7,
                2);
  return canvas;
}

cv::Mat BannerPicture(std::uint32_t seed, const std::string& slogan, cv::Size size) {
  cv::RNG rng = Rng(seed, 12);
  cv::Mat canvas(size, CV_8UC3);
  const cv::Scalar left = Colour(rng, 120, 250);
  const cv::Scalar right = Colour(rng, 60, 200);
  for (int x = 0; x < size.width; ++x) {
    const double t = static_cast<double>(x) / std::max(1, size.width - 1);
    cv::line(canvas, {x, 0}, {x, size.height - 1}, left * (1 - t) + right * t);
  }
  for (int i = 0; i < 9; ++i) {
    cv::Mat overlay = canvas.clone();
    cv::circle(overlay, {rng.uniform(0, size.width), rng.uniform(0, size.height)}, rng.uniform(20, size.height),
               Colour(rng, 0, 255), cv::FILLED, cv::LINE_AA);
    cv::addWeighted(overlay, 0.25, canvas, 0.75, 0, canvas);
  }
  for (int i = 0; i < 5; ++i)
    Paw(canvas, {rng.uniform(0, size.width), rng.uniform(0, size.height)}, rng.uniform(6, 16), {250, 250, 250});
  PutTextFitted(canvas, slogan, cv::Rect(size.width / 10, size.height / 3, size.width * 8 / 10, size.height / 3),
                {40, 40, 40}, 2);
  return canvas;
}

cv::Mat LandscapePhoto(std::uint32_t seed, cv::Size size) {
  cv::RNG rng = Rng(seed, 13);
  cv::Mat canvas(size, CV_8UC3);
  const int w = size.width;
  const int h = size.height;
  const int horizon = static_cast<int>(h * rng.uniform(0.45, 0.6));
  const cv::Scalar sky_top(rng.uniform(150, 230), rng.uniform(90, 160), rng.uniform(30, 90));
  const cv::Scalar sky_low(rng.uniform(200, 250), rng.uniform(190, 230), rng.uniform(150, 220));
  for (int y = 0; y < horizon; ++y) {
    const double t = static_cast<double>(y) / horizon;
    cv::line(canvas, {0, y}, {w - 1, y}, sky_top * (1 - t) + sky_low * t);
  }
  cv::circle(canvas, {rng.uniform(w / 8, w * 7 / 8), rng.uniform(h / 12, horizon / 2)}, rng.uniform(14, 30),
             {150, 235, 255}, cv::FILLED, cv::LINE_AA);
  // Mountain ranges, far (pale) to near (dark).
  for (int layer = 0; layer < 3; ++layer) {
    std::vector<cv::Point> ridge = {{0, horizon}};
    int y = horizon - rng.uniform(h / 10, h / 4);
    for (int x = 0; x <= w; x += std::max(8, w / 24)) {
      y = std::clamp(y + rng.uniform(-h / 14, h / 14 + 1), horizon - h / 3, horizon - 4);
      ridge.emplace_back(x, y);
    }
    ridge.emplace_back(w, horizon);
    const double shade = 0.9 - 0.25 * layer;
    const cv::Scalar rock = cv::Scalar(rng.uniform(90, 140), rng.uniform(90, 130), rng.uniform(80, 120)) * shade;
    cv::fillPoly(canvas, std::vector<std::vector<cv::Point>>{ridge}, rock, cv::LINE_AA);
  }
  // A lake with the sky's colour, and grass.
  const int shore = horizon + static_cast<int>((h - horizon) * rng.uniform(0.3, 0.6));
  cv::rectangle(canvas, cv::Rect(0, horizon, w, shore - horizon), sky_low * 0.8, cv::FILLED);
  for (int y = horizon + 3; y < shore; y += 5)
    cv::line(canvas, {rng.uniform(0, w / 2), y}, {rng.uniform(w / 2, w), y}, sky_low * 0.95, 1, cv::LINE_AA);
  const cv::Scalar grass(rng.uniform(30, 70), rng.uniform(110, 170), rng.uniform(40, 90));
  cv::rectangle(canvas, cv::Rect(0, shore, w, h - shore), grass, cv::FILLED);
  for (int i = 0; i < 600; ++i) {
    const cv::Point p(rng.uniform(0, w), rng.uniform(shore, h));
    cv::line(canvas, p, p + cv::Point(rng.uniform(-3, 4), -rng.uniform(3, 10)), grass * rng.uniform(0.6, 1.3), 1);
  }
  const int trees = rng.uniform(3, 9);
  for (int i = 0; i < trees; ++i) {
    const cv::Point base(rng.uniform(0, w), rng.uniform(shore, h));
    const int tall = rng.uniform(h / 8, h / 3);
    cv::line(canvas, base, base - cv::Point(0, tall / 3), {30, 50, 70}, 4);
    const std::vector<cv::Point> crown = {base - cv::Point(tall / 4, tall / 4), base - cv::Point(0, tall),
                                          base - cv::Point(-tall / 4, tall / 4)};
    cv::fillPoly(canvas, std::vector<std::vector<cv::Point>>{crown}, grass * 0.55, cv::LINE_AA);
  }
  cv::Mat noise(size, CV_16SC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, 3);
  cv::Mat noisy;
  canvas.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(canvas, CV_8UC3);
  return canvas;
}

cv::Mat ResizedTo(const cv::Mat& image, cv::Size size) {
  if (image.size() == size) return image.clone();
  cv::Mat out;
  const bool smaller = size.width <= image.cols && size.height <= image.rows;
  cv::resize(image, out, size, 0, 0, smaller ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

cv::Mat Stamped(const cv::Mat& photo, const std::string& label) {
  cv::Mat out = photo.clone();
  const double scale = std::max(0.3, out.cols / 640.0);
  int baseline = 0;
  const cv::Size text = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  const cv::Rect box(4, 4, text.width + 8, text.height + baseline + 8);
  cv::rectangle(out, box, {255, 255, 255}, cv::FILLED);
  cv::putText(out, label, {8, 8 + text.height}, cv::FONT_HERSHEY_SIMPLEX, scale, {20, 20, 20}, 1, cv::LINE_AA);
  return out;
}

}  // namespace furrsight::workers::sample_site
