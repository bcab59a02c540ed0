#include "workers/vision/image_codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr int kPngCompression = 3;  // zlib level: a fair size for little time

// BGRA over a white background, rounded to nearest.
cv::Mat CompositeOverWhite(const cv::Mat& bgra) {
  cv::Mat out(bgra.rows, bgra.cols, CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    const auto* src = bgra.ptr<cv::Vec4b>(y);
    auto* dst = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgra.cols; ++x) {
      const int alpha = src[x][3];
      for (int c = 0; c < 3; ++c) dst[x][c] = static_cast<uchar>((src[x][c] * alpha + 255 * (255 - alpha) + 127) / 255);
    }
  }
  return out;
}

// 8-bit 1/3/4 channels -> BGR; the caller has checked the depth.
cv::Mat Flatten(const cv::Mat& image) {
  if (image.channels() == 3) return image;
  if (image.channels() == 4) return CompositeOverWhite(image);
  cv::Mat out;
  cv::cvtColor(image, out, cv::COLOR_GRAY2BGR);
  return out;
}

base::Result<void> CheckImage(const cv::Mat& image, std::string_view what) {
  if (image.empty()) return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is empty", what));
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3 && image.channels() != 4))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} must be 8-bit with 1, 3 or 4 channels (type {})", what, image.type()));
  return {};
}

std::string_view Extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return ".jpg";
    case ImageFormat::kPng: return ".png";
    case ImageFormat::kWebp: return ".webp";
    case ImageFormat::kBmp: return ".bmp";
    case ImageFormat::kGif: return ".gif";
  }
  return "";
}

}  // namespace

base::Result<cv::Mat> ToBgr8(const cv::Mat& image, std::string_view what) {
  if (auto ok = CheckImage(image, what); !ok) return std::unexpected(ok.error());
  try {
    return Flatten(image);
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("converting {} to BGR: {}", what, e.what()));
  }
}

base::Result<cv::Mat> ToGray8(const cv::Mat& image, std::string_view what) {
  if (auto ok = CheckImage(image, what); !ok) return std::unexpected(ok.error());
  try {
    if (image.channels() == 1) return image;
    cv::Mat gray;
    cv::cvtColor(Flatten(image), gray, cv::COLOR_BGR2GRAY);
    return gray;
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("converting {} to grey: {}", what, e.what()));
  }
}

base::Result<DecodedImage> DecodeImage(std::string_view bytes, std::int64_t max_pixels) {
  auto header = SniffImageHeader(bytes);
  if (!header) return std::unexpected(header.error());
  const std::string_view name = FormatName(header->format);
  if (header->PixelCount() > max_pixels)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("refusing to decode: the {} header declares {}x{} = {} pixels, above the limit of {}", name,
                            header->width, header->height, header->PixelCount(), max_pixels));
  if (header->format == ImageFormat::kGif)
    return Fail(ErrorCode::kInvalidArgument, "gif cannot be decoded: OpenCV 4.6 has no GIF reader");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} bytes is too large to decode", bytes.size()));

  // Alpha-capable formats are read unchanged so transparency can be flattened onto white.
  const bool keep_alpha = header->format == ImageFormat::kPng || header->format == ImageFormat::kWebp;
  cv::Mat pixels;
  try {
    // imdecode only reads the buffer; the Mat header just points at the caller's bytes.
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    cv::Mat raw = cv::imdecode(buffer, keep_alpha ? cv::IMREAD_UNCHANGED : cv::IMREAD_COLOR);
    if (raw.empty())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} data is corrupt or truncated: the decoder read nothing", name));
    if (raw.depth() == CV_16U) {
      cv::Mat eight;
      raw.convertTo(eight, CV_8U, 1.0 / 257.0);
      raw = eight;
    }
    if (auto ok = CheckImage(raw, "decoded image"); !ok) return std::unexpected(ok.error());
    pixels = Flatten(raw);
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} decoder failed: {}", name, e.what()));
  }
  const bool same = pixels.cols == header->width && pixels.rows == header->height;
  const bool rotated = pixels.cols == header->height && pixels.rows == header->width;
  if (!same && !rotated)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} header declares {}x{} but the decoder produced {}x{}", name, header->width,
                            header->height, pixels.cols, pixels.rows));
  return DecodedImage{*header, std::move(pixels)};
}

base::Result<EncodedImage> EncodeImage(const cv::Mat& image, ImageFormat format, int quality) {
  if (auto ok = CheckImage(image, "image to encode"); !ok) return std::unexpected(ok.error());
  std::vector<int> params;
  switch (format) {
    case ImageFormat::kJpeg:
      if (quality < 1 || quality > 100)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("jpeg quality {} is not within 1-100", quality));
      params = {cv::IMWRITE_JPEG_QUALITY, quality};
      break;
    case ImageFormat::kWebp:
      if (quality < 1)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("webp quality {} is below 1", quality));
      params = {cv::IMWRITE_WEBP_QUALITY, quality};
      break;
    case ImageFormat::kPng:
      params = {cv::IMWRITE_PNG_COMPRESSION, kPngCompression};
      break;
    case ImageFormat::kBmp:
      break;
    case ImageFormat::kGif:
      return Fail(ErrorCode::kInvalidArgument, "gif cannot be encoded: OpenCV 4.6 has no GIF writer");
  }
  std::vector<uchar> out;
  try {
    const cv::Mat source = format == ImageFormat::kJpeg || format == ImageFormat::kBmp ? Flatten(image) : image;
    if (!cv::imencode(std::string(Extension(format)), source, out, params))
      return Fail(ErrorCode::kInternal, fmt::format("the {} encoder refused a {}x{} image", FormatName(format),
                                                    image.cols, image.rows));
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("{} encoder failed: {}", FormatName(format), e.what()));
  }
  return EncodedImage{std::string(out.begin(), out.end()), format, image.cols, image.rows};
}

base::Result<EncodedImage> DownscaleForModel(const cv::Mat& image, const DownscaleOptions& options) {
  if (options.max_side < 1)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("max_side {} must be at least 1", options.max_side));
  auto bgr = ToBgr8(image, "image to downscale");
  if (!bgr) return std::unexpected(bgr.error());
  const int longest = std::max(bgr->cols, bgr->rows);
  if (longest <= options.max_side) return EncodeImage(*bgr, ImageFormat::kJpeg, options.jpeg_quality);
  const double scale = static_cast<double>(options.max_side) / longest;
  const cv::Size size(std::clamp(static_cast<int>(std::lround(bgr->cols * scale)), 1, options.max_side),
                      std::clamp(static_cast<int>(std::lround(bgr->rows * scale)), 1, options.max_side));
  cv::Mat small;
  try {
    cv::resize(*bgr, small, size, 0, 0, cv::INTER_AREA);
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("resizing for the model: {}", e.what()));
  }
  return EncodeImage(small, ImageFormat::kJpeg, options.jpeg_quality);
}

}  // namespace furrsight::workers::vision
