#include "workers/sample_site/synthetic_dogs.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace furrsight::workers::sample_site {
namespace {

constexpr int kMargin = 40;  // the scene is drawn this much larger, then cropped at the camera offset

// An RNG per purpose and seed. cv::RNG's first draws from nearby seeds are alike, so the
// seed goes through SplitMix64 first: scenes 3 and 1003 must not share a floor.
cv::RNG Rng(std::uint64_t seed, std::uint64_t purpose) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + purpose;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return cv::RNG(z ^ (z >> 31));
}

cv::Scalar Jitter(cv::RNG& rng, cv::Scalar c, int amount) {
  return {std::clamp(c[0] + rng.uniform(-amount, amount + 1), 0.0, 255.0),
          std::clamp(c[1] + rng.uniform(-amount, amount + 1), 0.0, 255.0),
          std::clamp(c[2] + rng.uniform(-amount, amount + 1), 0.0, 255.0)};
}

cv::Scalar RandomColour(cv::RNG& rng, int low, int high) {
  return {static_cast<double>(rng.uniform(low, high)), static_cast<double>(rng.uniform(low, high)),
          static_cast<double>(rng.uniform(low, high))};
}

void DrawRoom(cv::Mat& canvas, std::uint32_t seed) {
  cv::RNG rng = Rng(seed, 1);
  const int w = canvas.cols;
  const int h = canvas.rows;
  const cv::Scalar wall_top = RandomColour(rng, 90, 230);
  const cv::Scalar wall_bottom = Jitter(rng, wall_top, 40);
  const int floor_y = static_cast<int>(h * rng.uniform(0.6, 0.72));
  for (int y = 0; y < floor_y; ++y) {
    const double t = static_cast<double>(y) / floor_y;
    cv::line(canvas, {0, y}, {w - 1, y}, wall_top * (1 - t) + wall_bottom * t);
  }
  const cv::Scalar floor = RandomColour(rng, 50, 200);
  cv::rectangle(canvas, cv::Rect(0, floor_y, w, h - floor_y), floor, cv::FILLED);
  const int tile = rng.uniform(30, 70);
  for (int x = rng.uniform(0, tile); x < w; x += tile) cv::line(canvas, {x, floor_y}, {x, h}, floor * 0.8, 2);
  for (int y = floor_y + tile / 2; y < h; y += tile / 2) cv::line(canvas, {0, y}, {w, y}, floor * 0.8, 2);
  // Furniture and things on the wall.
  const int items = rng.uniform(4, 8);
  for (int i = 0; i < items; ++i) {
    const cv::Scalar colour = RandomColour(rng, 20, 240);
    const int kind = rng.uniform(0, 3);
    const cv::Point p(rng.uniform(0, w), rng.uniform(0, floor_y + 40));
    if (kind == 0) {
      const cv::Rect r(p.x, p.y, rng.uniform(40, 160), rng.uniform(40, 200));
      cv::rectangle(canvas, r, colour, cv::FILLED);
      cv::rectangle(canvas, r, colour * 0.5, 3);
      for (int k = 1; k < 4; ++k)
        cv::line(canvas, {r.x, r.y + k * r.height / 4}, {r.x + r.width, r.y + k * r.height / 4}, colour * 0.6, 2);
    } else if (kind == 1) {
      const int radius = rng.uniform(12, 45);
      cv::circle(canvas, p, radius, colour, cv::FILLED);
      cv::circle(canvas, p, radius, colour * 0.4, 3);
      cv::line(canvas, p, p + cv::Point(0, -radius * 3 / 4), colour * 0.3, 2);
    } else {
      const cv::Rect r(p.x, p.y, rng.uniform(60, 140), rng.uniform(50, 110));
      cv::rectangle(canvas, r, Jitter(rng, {235, 225, 200}, 20), cv::FILLED);
      cv::rectangle(canvas, r, colour, 5);
      cv::line(canvas, {r.x + r.width / 2, r.y}, {r.x + r.width / 2, r.y + r.height}, colour, 3);
    }
  }
}

void DrawDog(cv::Mat& canvas, const Dog& dog, cv::Point origin) {
  // The dog's look: the same for its before and after.
  cv::RNG look = Rng(dog.seed, 2);
  static const cv::Scalar kCoats[] = {{235, 240, 245}, {150, 200, 230}, {40, 70, 120}, {30, 30, 35},
                                      {140, 140, 145}, {70, 160, 215},  {90, 110, 160}, {200, 215, 225}};
  const cv::Scalar coat = Jitter(look, kCoats[look.uniform(0, 8)], 15);
  const cv::Scalar marking = Jitter(look, coat * look.uniform(0.35, 0.65), 10);
  const double scale = look.uniform(0.8, 1.15);
  const cv::Point centre = origin + cv::Point(look.uniform(-40, 41), look.uniform(-20, 21));
  const cv::Size body(static_cast<int>(130 * scale), static_cast<int>(62 * scale));
  const int facing = look.uniform(0, 2) == 0 ? -1 : 1;
  const cv::Point head = centre + cv::Point(facing * static_cast<int>(125 * scale), -static_cast<int>(55 * scale));
  const int head_radius = static_cast<int>(look.uniform(40, 52) * scale);
  const int leg_length = static_cast<int>(look.uniform(60, 85) * scale);
  const double ear_angle = look.uniform(-30.0, 30.0);
  std::vector<cv::Point> markings;
  for (int i = 0; i < 4; ++i)
    markings.push_back(centre + cv::Point(look.uniform(-body.width * 2 / 3, body.width * 2 / 3),
                                          look.uniform(-body.height / 2, body.height / 2)));
  const cv::Scalar collar = RandomColour(look, 0, 255);

  // Groomed: tighter outline, short strands, a cleaner (brighter, slightly warmer) coat.
  const int fluff = dog.groomed ? 5 : 22;
  const int strand = dog.groomed ? 4 : 16;
  const cv::Scalar fur = dog.groomed ? Jitter(look, coat * 1.06 + cv::Scalar(4, 8, 12), 0) : coat;
  cv::RNG hair = Rng(dog.seed, dog.groomed ? 4 : 3);

  auto fluffy_ellipse = [&](cv::Point c, cv::Size axes, double angle) {
    std::vector<cv::Point> outline;
    cv::ellipse2Poly(c, axes, static_cast<int>(angle), 0, 360, 6, outline);
    for (const cv::Point& p : outline)
      cv::circle(canvas, p, std::max(2, fluff + hair.uniform(-fluff / 3, fluff / 3 + 1)), Jitter(hair, fur, 12),
                 cv::FILLED);
    cv::ellipse(canvas, c, axes, angle, 0, 360, fur, cv::FILLED);
  };
  // Legs and tail first, body and head over them.
  for (int i = 0; i < 4; ++i) {
    const int x = centre.x + (i - 2) * body.width / 3 + body.width / 6;
    fluffy_ellipse({x, centre.y + body.height / 2 + leg_length / 2}, {std::max(8, fluff / 2 + 10), leg_length / 2}, 0);
  }
  fluffy_ellipse(centre + cv::Point(-facing * body.width, -body.height / 2), {std::max(10, fluff + 6), 45}, -facing * 40);
  fluffy_ellipse(centre, body, 0);
  fluffy_ellipse(head, {head_radius, head_radius}, 0);
  for (int side = -1; side <= 1; side += 2)
    fluffy_ellipse(head + cv::Point(side * head_radius * 3 / 4, head_radius / 3), {14 + fluff / 2, 38 + fluff},
                   ear_angle * side);
  // Fur strands over the coat.
  for (int i = 0; i < 1400; ++i) {
    const cv::Point p = centre + cv::Point(hair.uniform(-body.width - fluff, body.width + fluff),
                                           hair.uniform(-body.height - fluff, body.height + fluff));
    const double dx = static_cast<double>(p.x - centre.x) / (body.width + fluff);
    const double dy = static_cast<double>(p.y - centre.y) / (body.height + fluff);
    if (dx * dx + dy * dy > 1) continue;
    const double a = hair.uniform(0.0, CV_PI);
    const cv::Point q = p + cv::Point(static_cast<int>(strand * std::cos(a)), static_cast<int>(strand * std::sin(a)));
    cv::line(canvas, p, q, Jitter(hair, fur * 0.85, 20), 1, cv::LINE_AA);
  }
  // The dog's own features: markings, collar, eyes, nose.
  for (const cv::Point& m : markings) cv::ellipse(canvas, m, {22, 14}, 20, 0, 360, marking, cv::FILLED);
  cv::ellipse(canvas, head + cv::Point(-facing * head_radius / 2, head_radius / 2), {head_radius / 2 + 6, 9},
              facing * 70, 0, 360, collar, cv::FILLED);
  for (int side = -1; side <= 1; side += 2) {
    const cv::Point eye = head + cv::Point(side * head_radius / 3 + facing * 8, -head_radius / 5);
    cv::circle(canvas, eye, 8, {20, 20, 20}, cv::FILLED);
    cv::circle(canvas, eye + cv::Point(-2, -3), 3, {250, 250, 250}, cv::FILLED);
  }
  const cv::Point nose = head + cv::Point(facing * head_radius * 2 / 3, head_radius / 4);
  cv::ellipse(canvas, nose, {11, 8}, 0, 0, 360, {25, 25, 30}, cv::FILLED);
  cv::line(canvas, nose + cv::Point(0, 8), nose + cv::Point(-facing * 14, 22), {25, 25, 30}, 2, cv::LINE_AA);
}

}  // namespace

cv::Mat DogPhoto(std::uint32_t scene_seed, const Dog& dog, cv::Point camera_offset, cv::Size size) {
  cv::Mat canvas(size.height + 2 * kMargin, size.width + 2 * kMargin, CV_8UC3);
  DrawRoom(canvas, scene_seed);
  const cv::Point dog_origin(canvas.cols / 2 + (dog.groomed ? -14 : 0), static_cast<int>(canvas.rows * 0.55));
  DrawDog(canvas, dog, dog_origin);
  // Light falls off away from a lamp somewhere above the scene, as in any room.
  cv::RNG lamp = Rng(scene_seed, 5);
  const cv::Point2d light(lamp.uniform(0.0, 1.0) * canvas.cols, lamp.uniform(-0.3, 0.3) * canvas.rows);
  const double reach = 0.8 * canvas.cols;
  for (int y = 0; y < canvas.rows; ++y) {
    auto* row = canvas.ptr<cv::Vec3b>(y);
    for (int x = 0; x < canvas.cols; ++x) {
      const double d2 = (x - light.x) * (x - light.x) + (y - light.y) * (y - light.y);
      const double gain = 0.7 + 0.35 * std::exp(-d2 / (2 * reach * reach));
      for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<uchar>(row[x][c] * gain);
    }
  }
  cv::Mat photo = canvas(cv::Rect(kMargin + camera_offset.x, kMargin + camera_offset.y, size.width, size.height)).clone();
  // Sensor noise, different for every shot.
  cv::Mat noise(photo.size(), CV_16SC3);
  cv::RNG sensor = Rng((std::uint64_t{scene_seed} << 32) | dog.seed, dog.groomed ? 7 : 6);
  sensor.fill(noise, cv::RNG::NORMAL, 0, 4);
  cv::Mat noisy;
  photo.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(photo, CV_8UC3);
  return photo;
}

cv::Mat BeforePhoto(std::uint32_t seed) { return DogPhoto(seed, Dog{seed, false}); }
cv::Mat AfterPhoto(std::uint32_t seed) { return DogPhoto(seed, Dog{seed, true}, {14, -9}); }
cv::Mat AfterPhotoElsewhere(std::uint32_t seed) { return DogPhoto(seed + 1000, Dog{seed, true}, {14, -9}); }

cv::Mat Blurred(const cv::Mat& image, double sigma) {
  cv::Mat out;
  cv::GaussianBlur(image, out, {0, 0}, sigma);
  return out;
}

cv::Mat Darkened(const cv::Mat& image, double factor) {
  cv::Mat out;
  image.convertTo(out, -1, factor, 0);
  return out;
}

cv::Mat Brightened(const cv::Mat& image, double towards_white) {
  cv::Mat out;
  image.convertTo(out, -1, 1 - towards_white, 255 * towards_white);
  return out;
}

cv::Mat SideBySide(const cv::Mat& left, const cv::Mat& right, int divider, cv::Scalar divider_colour) {
  cv::Mat resized;
  cv::resize(right, resized, {right.cols * left.rows / right.rows, left.rows}, 0, 0, cv::INTER_AREA);
  std::vector<cv::Mat> parts = {left};
  if (divider > 0) parts.emplace_back(left.rows, divider, CV_8UC3, divider_colour);
  parts.push_back(resized);
  cv::Mat out;
  cv::hconcat(parts, out);
  return out;
}

cv::Mat TopBottom(const cv::Mat& top, const cv::Mat& bottom, int divider, cv::Scalar divider_colour) {
  cv::Mat resized;
  cv::resize(bottom, resized, {top.cols, bottom.rows * top.cols / bottom.cols}, 0, 0, cv::INTER_AREA);
  std::vector<cv::Mat> parts = {top};
  if (divider > 0) parts.emplace_back(divider, top.cols, CV_8UC3, divider_colour);
  parts.push_back(resized);
  cv::Mat out;
  cv::vconcat(parts, out);
  return out;
}

std::string Encode(const cv::Mat& image, const std::string& extension, int quality) {
  std::vector<int> params;
  if (extension == ".jpg") params = {cv::IMWRITE_JPEG_QUALITY, quality};
  if (extension == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, quality};
  std::vector<uchar> bytes;
  cv::imencode(extension, image, bytes, params);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace furrsight::workers::sample_site
