#include "workers/vision/image_header.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr std::string_view kPngSignature{"\x89PNG\r\n\x1a\n", 8};
constexpr std::string_view kJpegSignature{"\xff\xd8\xff", 3};
// BMP's two-byte "BM" is weak evidence; the info-header size must be one of these too.
constexpr std::array<std::uint32_t, 8> kBmpInfoHeaderSizes = {12, 16, 40, 52, 56, 64, 108, 124};

std::uint32_t Byte(std::string_view b, std::size_t i) { return static_cast<unsigned char>(b[i]); }
std::uint32_t Be16(std::string_view b, std::size_t i) { return (Byte(b, i) << 8) | Byte(b, i + 1); }
std::uint32_t Be32(std::string_view b, std::size_t i) { return (Be16(b, i) << 16) | Be16(b, i + 2); }
std::uint32_t Le16(std::string_view b, std::size_t i) { return Byte(b, i) | (Byte(b, i + 1) << 8); }
std::uint32_t Le24(std::string_view b, std::size_t i) { return Le16(b, i) | (Byte(b, i + 2) << 16); }
std::uint32_t Le32(std::string_view b, std::size_t i) { return Le16(b, i) | (Le16(b, i + 2) << 16); }

std::unexpected<base::Error> Truncated(ImageFormat format, std::size_t have, std::size_t need) {
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("{} header truncated: {} bytes, the dimensions need {}", FormatName(format), have, need));
}

base::Result<ImageHeader> Make(ImageFormat format, std::int64_t width, std::int64_t height) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  if (width <= 0 || height <= 0 || width > kMax || height > kMax)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} header declares an impossible size {}x{}", FormatName(format), width, height));
  return ImageHeader{format, static_cast<std::int32_t>(width), static_cast<std::int32_t>(height)};
}

// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): the frame header with the size.
bool IsStartOfFrame(std::uint32_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

base::Result<ImageHeader> SniffJpeg(std::string_view b) {
  std::size_t pos = 2;  // after SOI
  while (true) {
    if (pos >= b.size()) return Truncated(ImageFormat::kJpeg, b.size(), pos + 1);
    if (Byte(b, pos) != 0xFF)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("jpeg: expected a marker at offset {}, found byte 0x{:02x}", pos, Byte(b, pos)));
    while (pos < b.size() && Byte(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return Truncated(ImageFormat::kJpeg, b.size(), pos + 1);
    const std::uint32_t marker = Byte(b, pos++);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // standalone markers
    if (marker == 0xD9) return Fail(ErrorCode::kInvalidArgument, "jpeg: end of image before any frame header (SOF)");
    if (marker == 0xDA) return Fail(ErrorCode::kInvalidArgument, "jpeg: scan data (SOS) before any frame header (SOF)");
    if (marker == 0x00 || marker == 0xD8)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("jpeg: unexpected marker 0xff{:02x} at offset {}", marker, pos - 2));
    if (pos + 2 > b.size()) return Truncated(ImageFormat::kJpeg, b.size(), pos + 2);
    const std::size_t length = Be16(b, pos);  // includes its own two bytes
    if (length < 2)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("jpeg: segment 0xff{:02x} has length {}", marker, length));
    if (IsStartOfFrame(marker)) {
      // length(2) precision(1) height(2) width(2) components(1)
      if (length < 8)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("jpeg: frame header (SOF) of length {} is too short", length));
      if (pos + 7 > b.size()) return Truncated(ImageFormat::kJpeg, b.size(), pos + 7);
      const std::uint32_t height = Be16(b, pos + 3);
      const std::uint32_t width = Be16(b, pos + 5);
      if (height == 0)
        return Fail(ErrorCode::kInvalidArgument, "jpeg: frame header defers the height to a DNL marker (not supported)");
      return Make(ImageFormat::kJpeg, width, height);
    }
    pos += length;
  }
}

base::Result<ImageHeader> SniffPng(std::string_view b) {
  constexpr std::size_t kNeed = 8 + 4 + 4 + 8;  // signature, length, "IHDR", width, height
  if (b.size() < kNeed) return Truncated(ImageFormat::kPng, b.size(), kNeed);
  if (b.substr(12, 4) != "IHDR") return Fail(ErrorCode::kInvalidArgument, "png: the first chunk is not IHDR");
  if (Be32(b, 8) != 13)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("png: IHDR has length {}, not 13", Be32(b, 8)));
  return Make(ImageFormat::kPng, Be32(b, 16), Be32(b, 20));
}

base::Result<ImageHeader> SniffGif(std::string_view b) {
  constexpr std::size_t kNeed = 10;  // signature(6) width(2) height(2)
  if (b.size() < kNeed) return Truncated(ImageFormat::kGif, b.size(), kNeed);
  return Make(ImageFormat::kGif, Le16(b, 6), Le16(b, 8));
}

base::Result<ImageHeader> SniffWebp(std::string_view b) {
  // RIFF <size> WEBP <fourcc> <chunk size> <payload...>
  if (b.size() < 20) return Truncated(ImageFormat::kWebp, b.size(), 20);
  const std::string_view fourcc = b.substr(12, 4);
  if (fourcc == "VP8 ") {
    // frame tag(3) start code(3) width(2) height(2); 14 bits each, 2 bits of scale.
    if (b.size() < 30) return Truncated(ImageFormat::kWebp, b.size(), 30);
    if ((Byte(b, 20) & 0x01) != 0) return Fail(ErrorCode::kInvalidArgument, "webp: VP8 frame is not a key frame");
    if (b.substr(23, 3) != std::string_view("\x9d\x01\x2a", 3))
      return Fail(ErrorCode::kInvalidArgument, "webp: VP8 start code missing");
    return Make(ImageFormat::kWebp, Le16(b, 26) & 0x3FFF, Le16(b, 28) & 0x3FFF);
  }
  if (fourcc == "VP8L") {
    // signature 0x2f, then 14 bits width-1, 14 bits height-1.
    if (b.size() < 25) return Truncated(ImageFormat::kWebp, b.size(), 25);
    if (Byte(b, 20) != 0x2F) return Fail(ErrorCode::kInvalidArgument, "webp: VP8L signature byte missing");
    const std::uint32_t bits = Le32(b, 21);
    return Make(ImageFormat::kWebp, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (fourcc == "VP8X") {
    // flags(1) reserved(3) canvas width-1 (24 bits) canvas height-1 (24 bits).
    if (b.size() < 30) return Truncated(ImageFormat::kWebp, b.size(), 30);
    return Make(ImageFormat::kWebp, std::int64_t{Le24(b, 24)} + 1, std::int64_t{Le24(b, 27)} + 1);
  }
  std::string printable;
  for (char c : fourcc) printable += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return Fail(ErrorCode::kInvalidArgument, fmt::format("webp: unknown first chunk '{}'", printable));
}

base::Result<ImageHeader> SniffBmp(std::string_view b) {
  // file header(14), info header size(4), then the size: 16-bit for the old
  // 12-byte core header, signed 32-bit (negative height = top-down) otherwise.
  if (b.size() < 18) return Truncated(ImageFormat::kBmp, b.size(), 18);
  const std::uint32_t info_size = Le32(b, 14);
  if (info_size == 12) {
    if (b.size() < 22) return Truncated(ImageFormat::kBmp, b.size(), 22);
    return Make(ImageFormat::kBmp, Le16(b, 18), Le16(b, 20));
  }
  if (b.size() < 26) return Truncated(ImageFormat::kBmp, b.size(), 26);
  const auto width = static_cast<std::int32_t>(Le32(b, 18));
  const auto height = static_cast<std::int32_t>(Le32(b, 22));
  const std::int64_t abs_height = height < 0 ? -std::int64_t{height} : std::int64_t{height};
  return Make(ImageFormat::kBmp, width, abs_height);
}

}  // namespace

std::string_view FormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kGif: return "gif";
    case ImageFormat::kWebp: return "webp";
    case ImageFormat::kBmp: return "bmp";
  }
  return "unknown";
}

std::string_view ContentType(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "image/jpeg";
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kGif: return "image/gif";
    case ImageFormat::kWebp: return "image/webp";
    case ImageFormat::kBmp: return "image/bmp";
  }
  return "application/octet-stream";
}

std::optional<ImageFormat> ParseFormatName(std::string_view name) {
  std::string lower(name);
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "jpeg" || lower == "jpg") return ImageFormat::kJpeg;
  if (lower == "png") return ImageFormat::kPng;
  if (lower == "gif") return ImageFormat::kGif;
  if (lower == "webp") return ImageFormat::kWebp;
  if (lower == "bmp") return ImageFormat::kBmp;
  return std::nullopt;
}

std::optional<ImageFormat> SniffFormat(std::string_view b) {
  if (b.starts_with(kJpegSignature)) return ImageFormat::kJpeg;
  if (b.starts_with(kPngSignature)) return ImageFormat::kPng;
  if (b.starts_with("GIF87a") || b.starts_with("GIF89a")) return ImageFormat::kGif;
  if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") return ImageFormat::kWebp;
  if (b.size() >= 18 && b.starts_with("BM") &&
      std::ranges::find(kBmpInfoHeaderSizes, Le32(b, 14)) != kBmpInfoHeaderSizes.end())
    return ImageFormat::kBmp;
  return std::nullopt;
}

base::Result<ImageHeader> SniffImageHeader(std::string_view bytes) {
  if (bytes.empty()) return Fail(ErrorCode::kInvalidArgument, "not an image: no bytes");
  const std::optional<ImageFormat> format = SniffFormat(bytes);
  if (!format) {
    std::string head;
    for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) head += fmt::format("{:02x}", Byte(bytes, i));
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("not a supported image (jpeg, png, gif, webp, bmp): first bytes {}", head));
  }
  switch (*format) {
    case ImageFormat::kJpeg: return SniffJpeg(bytes);
    case ImageFormat::kPng: return SniffPng(bytes);
    case ImageFormat::kGif: return SniffGif(bytes);
    case ImageFormat::kWebp: return SniffWebp(bytes);
    case ImageFormat::kBmp: return SniffBmp(bytes);
  }
  return Fail(ErrorCode::kInternal, "unreachable image format");
}

}  // namespace furrsight::workers::vision
