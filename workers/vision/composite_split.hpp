// Composite images: one picture holding both the "before" and the "after",
// side by side or one above the other, as grooming salons often post them.
// DetectCompositeSplit finds the split; CropHalves / CropAndEncodeHalves cut
// the two halves out so the caller can store them as derived blobs and pair
// them like any two images.
//
// Two cues, looked for near the middle only (within centre_band of it, so
// the halves are of similar size):
//   divider  a band of columns (rows) each nearly one colour over the whole
//            height (width), all the same colour, not touching the border,
//            clearly different from the lines beside it, with picture content
//            on both sides; a thin band (under wide_divider) must also have
//            different pictures on its two sides, or grout between floor tiles
//            would count;
//   seam     a single-pixel line where the image jumps: the mean step across
//            it is at least min_seam_ratio times the steps around it, and the
//            jump shows in every quarter of its length (two photos meet along
//            the whole line; the edge of a cupboard or a dog does not span it).
// A wide divider wins over a seam, a seam over a thin divider; between the two
// orientations, the stronger cue, then the stronger evidence.
// docs/vision.md has the formulas and the measured accuracy.
//
// Free functions; thread-safe; deterministic. Crops share no pixels with the input.
#pragma once

#include <optional>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include "events/base/error.hpp"
#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::vision {

enum class SplitOrientation {
  kSideBySide,  // first = left, second = right
  kTopBottom,   // first = top, second = bottom
};

enum class SplitCue {
  kDivider,  // a uniform band between the halves
  kSeam,     // the halves touch
};

struct CompositeSplit {
  SplitOrientation orientation = SplitOrientation::kSideBySide;
  SplitCue cue = SplitCue::kSeam;
  cv::Rect first;      // left or top half, in image pixels
  cv::Rect second;     // right or bottom half
  int position = 0;    // x (side by side) or y (top/bottom) where the second half's region begins, divider included
  int divider_width = 0;  // 0 for a seam; the divider is [position - divider_width, position)
  // A divider: the fraction of its pixels within the tolerance. A seam (or a divider found
  // beside one, see FindSeam): the step ratio of its weakest quarter.
  double strength = 0;
};

struct SplitOptions {
  double centre_band = 0.1;           // the split lies within +-10% of the side from the middle
  double max_divider_fraction = 0.12; // a wider uniform band is not a divider
  int uniform_tolerance = 14;         // per-channel difference from the line's mean still "one colour"
  double uniform_fraction = 0.98;     // of a line's pixels within the tolerance
  double min_divider_contrast = 0.3;  // of the pixels beside the divider, on each side, not of its colour
  int wide_divider = 4;                // a band this wide or wider needs nothing more; a thinner one...
  double min_divider_difference = 1.5; // ...must separate different pictures: the lines beside it differ
                                       // this many times more than lines as far apart within one side
  double min_seam_ratio = 4.0;        // step across the seam / median step around it
  double min_seam_step = 24.0;        // mean |difference| summed over B, G, R, across the seam
  double min_seam_quarter_ratio = 2.5;  // the same ratio, within a quarter of the seam's length...
  int min_seam_quarters = 4;            // ...in at least this many of its four quarters
};

// nullopt when the image does not look like a composite. Accepts what ToBgr8 accepts.
base::Result<std::optional<CompositeSplit>> DetectCompositeSplit(const cv::Mat& image,
                                                                 const SplitOptions& options = {});

struct ImageHalves {
  cv::Mat first;   // left or top; its own copy of the pixels
  cv::Mat second;  // right or bottom
};
// kInvalidArgument when a rectangle of `split` is empty or outside the image.
base::Result<ImageHalves> CropHalves(const cv::Mat& image, const CompositeSplit& split);

struct EncodedHalves {
  EncodedImage first;
  EncodedImage second;
};
base::Result<EncodedHalves> CropAndEncodeHalves(const cv::Mat& image, const CompositeSplit& split,
                                                ImageFormat format = ImageFormat::kJpeg,
                                                int quality = kDefaultJpegQuality);

}  // namespace furrsight::workers::vision
