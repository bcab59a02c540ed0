// Content sniffing: what a response really is, judged from its first bytes
// (magic numbers), never only from its Content-Type header; and an image's
// width and height read from its header bytes, without decoding it.
// Image formats taken: JPEG, PNG, GIF, WebP, BMP, AVIF. SVG, TIFF, HEIC and
// the rest are kUnknown: the dataset wants photographs a decoder can read.
// Pure functions: thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace furrsight::workers {

enum class ContentFormat { kUnknown, kJpeg, kPng, kGif, kWebp, kBmp, kAvif, kHtml };

// How many leading bytes SniffContent needs to decide (it decides from fewer
// when the body is shorter).
inline constexpr std::size_t kSniffBytes = 512;

ContentFormat SniffContent(std::string_view first_bytes);
bool IsImageFormat(ContentFormat format);
std::string_view FormatName(ContentFormat format);      // "jpeg", "png", ..., "html", "unknown"
std::string_view FormatMediaType(ContentFormat format);  // "image/jpeg", ..., "text/html", ""

struct ImageSize {
  int width = 0;
  int height = 0;
  friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

// Width and height from the header of a JPEG (SOFn), PNG (IHDR), GIF
// (logical screen), WebP (VP8, VP8L, VP8X), BMP (DIB header) or AVIF (ispe);
// nullopt when they are not there.
std::optional<ImageSize> ReadImageSize(std::string_view bytes, ContentFormat format);

}  // namespace furrsight::workers
