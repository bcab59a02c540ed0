#include "workers/vision/composite_split.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr int kSeamWindow = 16;    // the steps within +-kSeamWindow lines make the baseline...
constexpr int kSeamExclusion = 4;  // ...except those within +-kSeamExclusion of the candidate
constexpr int kSeamNear = 1;       // the step at x compares lines x-1-kSeamNear | x+kSeamNear...
constexpr int kSeamFar = 5;        // ...and x-1-kSeamFar | x+kSeamFar, and keeps the smaller
constexpr int kSeamParts = 4;      // the length is cut into quarters; a seam must show in (min_seam_quarters of) them
constexpr int kMinSide = 2 * (kSeamWindow + kSeamFar + 2);  // smaller images are never split

using Colour = std::array<double, 3>;

// Per-column statistics of a BGR image, for splits between columns.
struct ColumnStats {
  std::vector<Colour> mean;    // per channel
  std::vector<double> uniform;  // fraction of pixels within the tolerance of the mean
  // [x]: the step between columns x-1 and x, mean over rows of
  //   min(sum_c |I(x+1) - I(x-2)|, sum_c |I(x+5) - I(x-6)|).
  // Spanning three pixels it sees through JPEG's smear of an edge; spanning eleven, it
  // jumps over a line up to five pixels thin (grout, a cable), whose step then cancels out.
  std::vector<double> step;
  std::array<std::vector<double>, kSeamParts> part_step;  // the same over each part of the rows
  std::vector<double> edge;     // [x]: mean over rows of sum_c |I(x) - I(x-1)|, for x >= 1
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
  for (auto& part : s.part_step) part.assign(size, 0);
  for (int y = 0; y < h; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    auto& part = s.part_step[static_cast<std::size_t>(y * kSeamParts / h)];
    for (int x = 0; x < w; ++x) {
      const auto i = static_cast<std::size_t>(x);
      for (int c = 0; c < 3; ++c) s.mean[i][static_cast<std::size_t>(c)] += row[x][c];
      if (x >= 1) {
        int e = 0;
        for (int c = 0; c < 3; ++c) e += std::abs(row[x][c] - row[x - 1][c]);
        s.edge[i] += e;
      }
      if (x >= 1 + kSeamFar && x + kSeamFar < w) {
        int near = 0;
        int far = 0;
        for (int c = 0; c < 3; ++c) {
          near += std::abs(row[x + kSeamNear][c] - row[x - 1 - kSeamNear][c]);
          far += std::abs(row[x + kSeamFar][c] - row[x - 1 - kSeamFar][c]);
        }
        const int d = std::min(near, far);
        s.step[i] += d;
        part[i] += d;
      }
    }
  }
  const double part_rows = static_cast<double>(h) / kSeamParts;
  for (std::size_t i = 0; i < size; ++i) {
    for (double& m : s.mean[i]) m /= h;
    s.step[i] /= h;
    s.edge[i] /= h;
    for (auto& part : s.part_step) part[i] /= part_rows;
  }
  std::vector<int> within(size, 0);
  for (int y = 0; y < h; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const Colour& m = s.mean[static_cast<std::size_t>(x)];
      bool close = true;
      for (int c = 0; c < 3; ++c) close = close && std::abs(row[x][c] - m[static_cast<std::size_t>(c)]) <= tolerance;
      within[static_cast<std::size_t>(x)] += close ? 1 : 0;
    }
  }
  for (std::size_t i = 0; i < size; ++i) s.uniform[i] = static_cast<double>(within[i]) / h;
  return s;
}

bool SameColour(const Colour& a, const Colour& b, int tolerance) {
  for (std::size_t c = 0; c < 3; ++c)
    if (std::abs(a[c] - b[c]) > tolerance) return false;
  return true;
}

// Fraction of the pixels of column x that are not of `colour`.
double Contrast(const cv::Mat& bgr, int x, const Colour& colour, int tolerance) {
  int differ = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    const cv::Vec3b& p = bgr.at<cv::Vec3b>(y, x);
    bool close = true;
    for (int c = 0; c < 3; ++c) close = close && std::abs(p[c] - colour[static_cast<std::size_t>(c)]) <= tolerance;
    differ += close ? 0 : 1;
  }
  return static_cast<double>(differ) / bgr.rows;
}

// Mean over rows of sum_c |I(a) - I(b)|: how different columns a and b are.
double ColumnDifference(const cv::Mat& bgr, int a, int b) {
  double sum = 0;
  for (int y = 0; y < bgr.rows; ++y) {
    const auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int c = 0; c < 3; ++c) sum += std::abs(row[a][c] - row[b][c]);
  }
  return sum / bgr.rows;
}

// The median of values[x - kSeamWindow .. x + kSeamWindow] without the
// kSeamExclusion lines either side of x; the caller keeps the window inside.
double MedianAround(const std::vector<double>& values, int x) {
  std::array<double, 2 * (kSeamWindow - kSeamExclusion)> around{};
  std::size_t n = 0;
  for (int k = x - kSeamWindow; k <= x + kSeamWindow; ++k)
    if (std::abs(k - x) > kSeamExclusion) around[n++] = values[static_cast<std::size_t>(k)];
  const auto middle = around.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(around.begin(), middle, around.begin() + static_cast<std::ptrdiff_t>(n));
  return *middle;
}

bool Uniform(const ColumnStats& s, const SplitOptions& o, int x) {
  return s.uniform[static_cast<std::size_t>(x)] >= o.uniform_fraction;
}

enum class Band {
  kNone,
  kThin,  // a divider under wide_divider lines: weaker evidence than a seam
  kWide,
};

// What the run of uniform, same-coloured columns [x0, x1) is. The caller has checked that
// it lies near the middle.
Band ClassifyBand(const cv::Mat& bgr, const ColumnStats& s, const SplitOptions& o, int x0, int x1) {
  const int w = bgr.cols;
  const int width = x1 - x0;
  if (x0 < 2 || x1 + 1 >= w || width > o.max_divider_fraction * w) return Band::kNone;
  // The lines beside the band (skipping one, which JPEG smears) must not be of its colour;
  // each is compared with the band's own edge line, so a slow gradient (a wall) is no divider.
  if (Contrast(bgr, x0 - 2, s.mean[static_cast<std::size_t>(x0)], o.uniform_tolerance) < o.min_divider_contrast ||
      Contrast(bgr, x1 + 1, s.mean[static_cast<std::size_t>(x1 - 1)], o.uniform_tolerance) < o.min_divider_contrast)
    return Band::kNone;
  // Both halves must hold a picture, not more flat colour.
  auto content = [&](int from, int to) {
    int n = 0;
    for (int x = from; x < to; ++x) n += Uniform(s, o, x) ? 0 : 1;
    return 2 * n >= to - from;
  };
  if (!content(0, x0) || !content(x1, w)) return Band::kNone;
  if (width >= o.wide_divider) return Band::kWide;
  // A thin stripe (tile grout, a cable, a shelf edge) passes the tests above too; it is a
  // divider only if the pictures on its two sides differ: the lines either side of it
  // differ more than lines as far apart within one side.
  const int gap = x1 + 1 - (x0 - 2);
  if (x0 - 2 - gap < 0 || x1 + 1 + gap >= w) return Band::kNone;
  const double across = ColumnDifference(bgr, x0 - 2, x1 + 1);
  const double within =
      (ColumnDifference(bgr, x0 - 2 - gap, x0 - 2) + ColumnDifference(bgr, x1 + 1, x1 + 1 + gap)) / 2;
  return across >= o.min_divider_difference * std::max(within, 1.0) ? Band::kThin : Band::kNone;
}

// The divider of the given kind nearest the middle, if any.
std::optional<CompositeSplit> FindDivider(const cv::Mat& bgr, const ColumnStats& s, const SplitOptions& o, Band kind) {
  const int w = bgr.cols;
  const double middle = w / 2.0;
  std::optional<CompositeSplit> best;
  double best_offset = 0;
  // Maximal runs of uniform columns of one colour.
  for (int x0 = 0; x0 < w;) {
    if (!Uniform(s, o, x0)) {
      ++x0;
      continue;
    }
    const Colour& colour = s.mean[static_cast<std::size_t>(x0)];
    int x1 = x0 + 1;
    while (x1 < w && Uniform(s, o, x1) &&
           SameColour(s.mean[static_cast<std::size_t>(x1)], colour, o.uniform_tolerance))
      ++x1;
    const double offset = std::abs((x0 + x1) / 2.0 - middle);
    if (offset <= o.centre_band * w && (!best || offset < best_offset) && ClassifyBand(bgr, s, o, x0, x1) == kind) {
      double fraction = 0;
      for (int x = x0; x < x1; ++x) fraction += s.uniform[static_cast<std::size_t>(x)];
      best = CompositeSplit{SplitOrientation::kSideBySide, SplitCue::kDivider, cv::Rect(0, 0, x0, bgr.rows),
                            cv::Rect(x1, 0, w - x1, bgr.rows), x1, x1 - x0, fraction / (x1 - x0)};
      best_offset = offset;
    }
    x0 = x1;
  }
  return best;
}

// A divider the colour of one photo's edge shows only on its other side, as a seam: the
// uniform band that begins at the seam line `from` (or one line on: JPEG smears the line
// at a seam), going `direction` (+1 or -1). Returns the first line past the band, or
// `from` when there is none.
int BandBeside(const cv::Mat& bgr, const ColumnStats& s, const SplitOptions& o, int from, int direction) {
  const int w = bgr.cols;
  const int max_band = static_cast<int>(o.max_divider_fraction * w);
  for (int start = from; start != from + 2 * direction; start += direction) {
    if (start < 0 || start >= w || !Uniform(s, o, start)) continue;
    const Colour& colour = s.mean[static_cast<std::size_t>(start)];
    int x = start;
    while (x >= 0 && x < w && std::abs(x - from) < max_band && Uniform(s, o, x) &&
           SameColour(s.mean[static_cast<std::size_t>(x)], colour, o.uniform_tolerance))
      x += direction;
    if (std::abs(x - from) >= max_band) return from;  // a flat stretch too long to be a divider
    // It must end as a divider does, against a picture (skipping the line JPEG smears), not
    // fade into more of the same, as the top of a wall does.
    const int beyond = x + direction;
    if (beyond < 0 || beyond >= w ||
        Contrast(bgr, beyond, s.mean[static_cast<std::size_t>(x - direction)], o.uniform_tolerance) <
            o.min_divider_contrast)
      return from;
    return x;
  }
  return from;
}

std::optional<CompositeSplit> FindSeam(const cv::Mat& bgr, const ColumnStats& s, const SplitOptions& o) {
  const int w = bgr.cols;
  const double middle = w / 2.0;
  const int from = std::max(kSeamWindow + kSeamFar + 1, static_cast<int>(std::ceil(middle - o.centre_band * w)));
  const int to = std::min(w - kSeamWindow - kSeamFar - 1, static_cast<int>(std::floor(middle + o.centre_band * w)));
  // Among the lines that pass, the one whose weakest quarter is strongest: a seam runs the
  // whole length, while the edge of a cupboard is strong where the cupboard is and nowhere else.
  double best_strength = 0;
  int best_x = -1;
  for (int x = from; x <= to; ++x) {
    const double step = s.step[static_cast<std::size_t>(x)];
    if (step < o.min_seam_step || step < o.min_seam_ratio * std::max(MedianAround(s.step, x), 1.0)) continue;
    double weakest = std::numeric_limits<double>::max();
    int parts = 0;
    for (const auto& part : s.part_step) {
      const double ratio = part[static_cast<std::size_t>(x)] / std::max(MedianAround(part, x), 1.0);
      weakest = std::min(weakest, ratio);
      parts += ratio >= o.min_seam_quarter_ratio ? 1 : 0;
    }
    if (parts < o.min_seam_quarters || weakest <= best_strength) continue;
    best_strength = weakest;
    best_x = x;
  }
  if (best_x < 0) return std::nullopt;
  // The step stays high a pixel either side of the seam: take the sharpest single-pixel edge there.
  int seam = best_x - kSeamNear;
  for (int k = seam + 1; k <= best_x + kSeamNear; ++k)
    if (s.edge[static_cast<std::size_t>(k)] > s.edge[static_cast<std::size_t>(seam)]) seam = k;
  const int second = BandBeside(bgr, s, o, seam, +1);
  const int first = BandBeside(bgr, s, o, seam - 1, -1) + 1;
  const SplitCue cue = second - first > 0 ? SplitCue::kDivider : SplitCue::kSeam;
  return CompositeSplit{SplitOrientation::kSideBySide, cue, cv::Rect(0, 0, first, bgr.rows),
                        cv::Rect(second, 0, w - second, bgr.rows), second, second - first, best_strength};
}

// A split and how strong a kind of evidence found it: 0 a wide divider, 1 a seam, 2 a thin divider.
struct Candidate {
  int rank = 0;
  CompositeSplit split;
};

// A split between columns of `bgr` (side by side); the caller transposes for top/bottom.
std::optional<Candidate> FindColumnSplit(const cv::Mat& bgr, const SplitOptions& o) {
  if (bgr.cols < kMinSide || bgr.rows < kMinSide) return std::nullopt;
  const ColumnStats stats = MeasureColumns(bgr, o.uniform_tolerance);
  if (auto divider = FindDivider(bgr, stats, o, Band::kWide)) return Candidate{0, *divider};
  if (auto seam = FindSeam(bgr, stats, o)) return Candidate{1, *seam};
  if (auto divider = FindDivider(bgr, stats, o, Band::kThin)) return Candidate{2, *divider};
  return std::nullopt;
}

cv::Rect Transposed(const cv::Rect& r) { return cv::Rect(r.y, r.x, r.height, r.width); }

}  // namespace

base::Result<std::optional<CompositeSplit>> DetectCompositeSplit(const cv::Mat& image, const SplitOptions& options) {
  auto bgr = ToBgr8(image, "image to split");
  if (!bgr) return std::unexpected(bgr.error());
  try {
    std::optional<Candidate> side = FindColumnSplit(*bgr, options);
    cv::Mat transposed;
    cv::transpose(*bgr, transposed);
    std::optional<Candidate> stacked = FindColumnSplit(transposed, options);
    if (stacked) {
      CompositeSplit& split = stacked->split;
      split.orientation = SplitOrientation::kTopBottom;
      split.first = Transposed(split.first);
      split.second = Transposed(split.second);
    }
    if (!side && !stacked) return std::optional<CompositeSplit>();
    if (!side) return std::optional(stacked->split);
    if (!stacked) return std::optional(side->split);
    // The stronger kind of evidence; between equals, the stronger one.
    if (side->rank != stacked->rank) return std::optional(side->rank < stacked->rank ? side->split : stacked->split);
    return std::optional(side->split.strength >= stacked->split.strength ? side->split : stacked->split);
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
