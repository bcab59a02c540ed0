// Image header sniffing: the format, width and height of an encoded image,
// read from its first bytes without decoding a single pixel. This is what
// lets a worker refuse a decompression bomb (a 40 KB file that claims
// 50000x50000 pixels) before OpenCV allocates anything, and what names the
// content type from the magic numbers rather than from what a web server
// said in its Content-Type header.
//
// Supported: JPEG (SOFn markers), PNG (IHDR), GIF (logical screen), WebP
// (VP8, VP8L, VP8X) and BMP (BITMAPCOREHEADER and later info headers).
//
// Pure functions over the caller's bytes (nothing is kept); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "events/base/error.hpp"

namespace furrsight::workers::vision {

enum class ImageFormat {
  kJpeg,
  kPng,
  kGif,
  kWebp,
  kBmp,
};

// "jpeg", "png", "gif", "webp", "bmp": the names ImageDownloaded.format uses.
std::string_view FormatName(ImageFormat format);
// "image/jpeg", ...: the content type the magic numbers prove.
std::string_view ContentType(ImageFormat format);
// Accepts the canonical names, "jpg" and upper case; nullopt if unknown.
std::optional<ImageFormat> ParseFormatName(std::string_view name);

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  std::int32_t width = 0;   // pixels, > 0
  std::int32_t height = 0;  // pixels, > 0

  std::int64_t PixelCount() const { return std::int64_t{width} * height; }
};

// The format from the magic numbers alone (a few bytes); nullopt when none
// of the supported signatures matches.
std::optional<ImageFormat> SniffFormat(std::string_view bytes);

// Format and dimensions from the header. kInvalidArgument, with a message
// saying what is wrong, when the bytes are not a supported image, are
// truncated before the dimensions, or declare a zero or negative size.
base::Result<ImageHeader> SniffImageHeader(std::string_view bytes);

}  // namespace furrsight::workers::vision
