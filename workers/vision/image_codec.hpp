// Decoding and encoding images with OpenCV, behind FurrSight's Result<T>.
//
// DecodeImage reads the header first (image_header.hpp) and refuses to
// decode anything whose declared pixel count is above the caller's limit,
// so a decompression bomb never reaches the decoder. Every decoded image
// comes back in one form, 8-bit BGR (CV_8UC3): JPEG and BMP through
// OpenCV's colour reader (EXIF orientation applied), PNG and WebP read
// unchanged and flattened (16-bit scaled to 8, transparency composited over
// white), so later checks never see an arbitrary colour behind an alpha of 0.
//
// cv::Exception never leaves this file: every OpenCV failure becomes an
// Error. Free functions, no shared state; thread-safe. The returned Mats own
// their pixels.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "events/base/error.hpp"
#include "workers/vision/image_header.hpp"

namespace furrsight::workers::vision {

// 50 megapixels: above any camera photo on the web (an 8K frame is 33 MP);
// a decoded 50 MP BGR image takes 150 MB.
inline constexpr std::int64_t kDefaultMaxPixels = 50'000'000;
inline constexpr int kDefaultJpegQuality = 90;

struct DecodedImage {
  ImageHeader header;  // as declared by the file
  cv::Mat pixels;      // CV_8UC3 BGR; width x height of the header (swapped if EXIF rotated)
};

// kInvalidArgument when the header is unreadable, declares more than
// `max_pixels`, the format has no decoder here (GIF: OpenCV 4.6 has none),
// the data is corrupt, or the decoded size differs from the declared one.
base::Result<DecodedImage> DecodeImage(std::string_view bytes, std::int64_t max_pixels = kDefaultMaxPixels);

struct EncodedImage {
  std::string bytes;
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
};

// Encodes a CV_8UC1/3/4 image. `quality` is 1-100 for JPEG and WebP (WebP
// above 100 is lossless); PNG and BMP are lossless and ignore it. GIF is
// refused (no encoder).
base::Result<EncodedImage> EncodeImage(const cv::Mat& image, ImageFormat format,
                                       int quality = kDefaultJpegQuality);

// What the inference client sends to the vision model: the longest side at
// most `max_side` (never enlarged; area interpolation), JPEG at `jpeg_quality`.
struct DownscaleOptions {
  int max_side = 1024;
  int jpeg_quality = 85;
};
base::Result<EncodedImage> DownscaleForModel(const cv::Mat& image, const DownscaleOptions& options = {});

// The forms the analysis functions work on. Accept a non-empty 8-bit image
// of 1, 3 (BGR) or 4 (BGRA, composited over white) channels; anything else
// is kInvalidArgument naming `what`.
base::Result<cv::Mat> ToBgr8(const cv::Mat& image, std::string_view what = "image");
base::Result<cv::Mat> ToGray8(const cv::Mat& image, std::string_view what = "image");

}  // namespace furrsight::workers::vision
