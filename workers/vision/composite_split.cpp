#include "workers/vision/composite_split.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr int kSeamWindow = 16;    // the steps within +-kSeamWindow columns make the baseline...
constexpr int kSeamExclusion = 2;  // ...except those within +-kSeamExclusion of the candidate
constexpr int kMinSide = 2 * (kSeamWindow + 2);  // smaller images are never split

// Per-column statistics of a BGR image, for splits between columns.
struct ColumnStats {
  std::vector<std::array<double, 3>> mean;  // per channel
  std::vector<double> uniform;              // fraction of pixels within the tolerance of the mean
  std::vector<double> step;                 // [x]: mean over rows of sum_c |I(x+1) - I(x-1)|, x in [1, w-1)
  std::vector<double> edge;                 // [x]: mean over rows of sum_c |I(x) - I(x-1)|, x >= 1
  std::vector<double> decorrelation;        // [x]: 1 - corr over rows of intensity(x-1), intensity(x+1)
};

ColumnStats MeasureColumns(const cv::Mat& bgr, int tolerance) {
  const int w = bgr.cols;
  const int h = bgr.rows;
  const auto size = static_cast<std::size_t>(w);
  ColumnStats s;
  s.mean.assign(size, {0, 0, 0});
  s.uniform.assign(size, 0);
  s.step.assign(size, 0);
  s.edge.assign(size, 0);
  s.decorrelation.assign(size, 0);
  std::vector<double> sum_a(size, 0), sum_b(size, 0), sum_aa(size, 0), sum_bb(size, 0), sum_ab(size, 0);
  std::vector<int> intensity(size, 0);
  for (int y = 0; y < h; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const auto i = static_cast<std::size_t>(x);
      for (int c = 0; c < 3; ++c) s.mean[i][static_cast<std::size_t>(c)] += row[x][c];
      intensity[i] = row[x][0] + row[x][1] + row[x][2];
      if (x >= 1) {
        double e = 0;
        for (int c = 0; c < 3; ++c) e += std::abs(row[x][c] - row[x - 1][c]);
        s.edge[i] += e;
      }
    }
    for (int x = 1; x + 1 < w; ++x) {
      const auto i = static_cast<std::size_t>(x);
      double d = 0;
      for (int c = 0; c < 3; ++c) d += std::abs(row[x + 1][c] - row[x - 1][c]);
      s.step[i] += d;
      const double a = intensity[i - 1];
      const double b = intensity[i + 1];
      sum_a[i] += a;
      sum_b[i] += b;
      sum_aa[i] += a * a;
      sum_bb[i] += b * b;
      sum_ab[i] += a * b;
    }
  }
  for (std::size_t i = 0; i < size; ++i) {
    for (double& m : s.mean[i]) m /= h;
    s.step[i] /= h;
    s.edge[i] /= h;
    const double cov = sum_ab[i] / h - (sum_a[i] / h) * (sum_b[i] / h);
    const double var_a = sum_aa[i] / h - (sum_a[i] / h) * (sum_a[i] / h);
    const double var_b = sum_bb[i] / h - (sum_b[i] / h) * (sum_b[i] / h);
    // Two flat columns say nothing either way: count them as correlated.
    s.decorrelation[i] = var_a > 1 && var_b > 1 ? 1.0 - cov / std::sqrt(var_a * var_b) : 0.0;
  }
  std::vector<int> within(size, 0);
  for (int y = 0; y < h; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const auto& m = s.mean[static_cast<std::size_t>(x)];
      bool close = true;
      for (int c = 0; c < 3; ++c) close = close && std::abs(row[x][c] - m[static_cast<std::size_t>(c)]) <= tolerance;
      within[static_cast<std::size_t>(x)] += close ? 1 : 0;
    }
  }
  for (std::size_t i = 0; i < size; ++i) s.uniform[i] = static_cast<double>(within[i]) / h;
  return s;
}

bool SameColour(const std::array<double, 3>& a, const std::array<double, 3>& b, int tolerance) {
  for (std::size_t c = 0; c < 3; ++c)
    if (std::abs(a[c] - b[c]) > tolerance) return false;
  return true;
}

double Median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// A split between columns of `bgr` (side by side); the caller transposes for top/bottom.
std::optional<CompositeSplit> FindColumnSplit(const cv::Mat& bgr, const SplitOptions& o) {
  const int w = bgr.cols;
  const int h = bgr.rows;
  if (w < kMinSide || h < kMinSide) return std::nullopt;
  const ColumnStats s = MeasureColumns(bgr, o.uniform_tolerance);
  const double middle = w / 2.0;
  const double band = o.centre_band * w;
  auto uniform = [&](int x) { return s.uniform[static_cast<std::size_t>(x)] >= o.uniform_fraction; };

  // Divider: maximal runs of uniform columns of one colour; the one nearest the middle.
  std::optional<CompositeSplit> best;
  for (int x0 = 0; x0 < w;) {
    if (!uniform(x0)) {
      ++x0;
      continue;
    }
    int x1 = x0 + 1;
    while (x1 < w && uniform(x1) &&
           SameColour(s.mean[static_cast<std::size_t>(x1)], s.mean[static_cast<std::size_t>(x0)], o.uniform_tolerance))
      ++x1;
    const double centre = (x0 + x1) / 2.0;
    const int width = x1 - x0;
    const bool inside = x0 > 0 && x1 < w && std::abs(centre - middle) <= band && width <= o.max_divider_fraction * w;
    if (inside) {
      // Both halves must hold a picture, not more flat colour.
      auto content = [&](int from, int to) {
        int n = 0;
        for (int x = from; x < to; ++x) n += uniform(x) ? 0 : 1;
        return n >= (to - from) / 2;
      };
      if (content(0, x0) && content(x1, w) && (!best || std::abs(centre - middle) < std::abs(best->position - middle))) {
        double fraction = 0;
        for (int x = x0; x < x1; ++x) fraction += s.uniform[static_cast<std::size_t>(x)];
        best = CompositeSplit{SplitOrientation::kSideBySide, SplitCue::kDivider, cv::Rect(0, 0, x0, h),
                              cv::Rect(x1, 0, w - x1, h), x1, width, fraction / width};
      }
    }
    x0 = x1;
  }
  if (best) return best;

  // Seam: the strongest step in the band relative to the steps around it.
  const int from = std::max(kSeamWindow + 1, static_cast<int>(std::ceil(middle - band)));
  const int to = std::min(w - kSeamWindow - 2, static_cast<int>(std::floor(middle + band)));
  double best_ratio = 0;
  int best_x = -1;
  double best_excess = 0;
  for (int x = from; x <= to; ++x) {
    std::vector<double> steps;
    std::vector<double> decorrelations;
    for (int k = x - kSeamWindow; k <= x + kSeamWindow; ++k) {
      if (std::abs(k - x) <= kSeamExclusion) continue;
      steps.push_back(s.step[static_cast<std::size_t>(k)]);
      decorrelations.push_back(s.decorrelation[static_cast<std::size_t>(k)]);
    }
    const double step = s.step[static_cast<std::size_t>(x)];
    const double ratio = step / std::max(Median(steps), 1.0);
    const double excess = s.decorrelation[static_cast<std::size_t>(x)] - Median(decorrelations);
    if (step >= o.min_seam_step && ratio >= o.min_seam_ratio && excess >= o.min_seam_decorrelation &&
        ratio > best_ratio) {
      best_ratio = ratio;
      best_x = x;
      best_excess = excess;
    }
  }
  if (best_x < 0) return std::nullopt;
  // The central step at x spans columns x-1..x+1: the seam is before x or before x+1.
  const int position =
      s.edge[static_cast<std::size_t>(best_x + 1)] > s.edge[static_cast<std::size_t>(best_x)] ? best_x + 1 : best_x;
  (void)best_excess;
  return CompositeSplit{SplitOrientation::kSideBySide, SplitCue::kSeam, cv::Rect(0, 0, position, h),
                        cv::Rect(position, 0, w - position, h), position, 0, best_ratio};
}

cv::Rect Transposed(const cv::Rect& r) { return cv::Rect(r.y, r.x, r.height, r.width); }

}  // namespace

base::Result<std::optional<CompositeSplit>> DetectCompositeSplit(const cv::Mat& image, const SplitOptions& options) {
  auto bgr = ToBgr8(image, "image to split");
  if (!bgr) return std::unexpected(bgr.error());
  try {
    std::optional<CompositeSplit> side = FindColumnSplit(*bgr, options);
    cv::Mat transposed;
    cv::transpose(*bgr, transposed);
    std::optional<CompositeSplit> stacked = FindColumnSplit(transposed, options);
    if (stacked) {
      stacked->orientation = SplitOrientation::kTopBottom;
      stacked->first = Transposed(stacked->first);
      stacked->second = Transposed(stacked->second);
    }
    if (!side) return stacked;
    if (!stacked) return side;
    // A divider beats a seam; between equals, the stronger one.
    if (side->cue != stacked->cue) return side->cue == SplitCue::kDivider ? side : stacked;
    return side->strength >= stacked->strength ? side : stacked;
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("looking for a composite split: {}", e.what()));
  }
}

base::Result<ImageHalves> CropHalves(const cv::Mat& image, const CompositeSplit& split) {
  if (image.empty()) return Fail(ErrorCode::kInvalidArgument, "image to crop is empty");
  const cv::Rect bounds(0, 0, image.cols, image.rows);
  for (const cv::Rect& r : {split.first, split.second})
    if (r.empty() || (r & bounds) != r)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("half {}x{}+{}+{} is empty or outside the {}x{} image", r.width, r.height, r.x, r.y,
                              image.cols, image.rows));
  try {
    return ImageHalves{image(split.first).clone(), image(split.second).clone()};
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("cropping halves: {}", e.what()));
  }
}

base::Result<EncodedHalves> CropAndEncodeHalves(const cv::Mat& image, const CompositeSplit& split, ImageFormat format,
                                                int quality) {
  auto halves = CropHalves(image, split);
  if (!halves) return std::unexpected(halves.error());
  auto first = EncodeImage(halves->first, format, quality);
  if (!first) return std::unexpected(first.error());
  auto second = EncodeImage(halves->second, format, quality);
  if (!second) return std::unexpected(second.error());
  return EncodedHalves{std::move(*first), std::move(*second)};
}

}  // namespace furrsight::workers::vision
