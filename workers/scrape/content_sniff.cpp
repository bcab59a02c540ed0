#include "workers/scrape/content_sniff.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>

namespace furrsight::workers {
namespace {

// Bytes of a DIB header that a real BMP carries (BITMAPCOREHEADER .. BITMAPV5HEADER).
constexpr std::array<std::uint32_t, 6> kDibHeaderSizes = {12, 40, 52, 56, 108, 124};
// Tags that open an HTML document (WHATWG MIME sniffing, "HTML" patterns).
constexpr std::array<std::string_view, 17> kHtmlOpeners = {
    "<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div", "<font", "<table",
    "<a",             "<style", "<title", "<b",    "<body",   "<br", "<p",  "<meta"};
// The largest AVIF header we search for its 'ispe' box.
constexpr std::size_t kAvifHeaderSearch = 64 * 1024;

std::uint8_t Byte(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

std::uint32_t Be16(std::string_view s, std::size_t i) {
  return (std::uint32_t{Byte(s, i)} << 8) | Byte(s, i + 1);
}
std::uint32_t Be32(std::string_view s, std::size_t i) { return (Be16(s, i) << 16) | Be16(s, i + 2); }
std::uint32_t Le16(std::string_view s, std::size_t i) {
  return std::uint32_t{Byte(s, i)} | (std::uint32_t{Byte(s, i + 1)} << 8);
}
std::uint32_t Le24(std::string_view s, std::size_t i) { return Le16(s, i) | (std::uint32_t{Byte(s, i + 2)} << 16); }
std::uint32_t Le32(std::string_view s, std::size_t i) { return Le16(s, i) | (Le16(s, i + 2) << 16); }

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (LowerAscii(s[i]) != prefix[i]) return false;
  return true;
}

bool LooksLikeHtml(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r' ||
                        s.front() == '\f'))
    s.remove_prefix(1);
  if (s.starts_with("<!--")) return true;
  for (std::string_view opener : kHtmlOpeners) {
    if (!StartsWithNoCase(s, opener)) continue;
    if (s.size() == opener.size()) return true;  // the prefix is all we have
    char next = s[opener.size()];
    if (next == ' ' || next == '>' || next == '\t' || next == '\n' || next == '\r' || next == '/') return true;
  }
  return false;
}

bool IsAvif(std::string_view s) {
  if (s.size() < 12 || s.substr(4, 4) != "ftyp") return false;
  std::uint32_t box = Be32(s, 0);
  if (box < 16) return false;
  std::string_view major = s.substr(8, 4);
  if (major == "avif" || major == "avis") return true;
  // The compatible brands follow the minor version.
  for (std::size_t i = 16; i + 4 <= std::min<std::size_t>(box, s.size()); i += 4)
    if (s.substr(i, 4) == "avif" || s.substr(i, 4) == "avis") return true;
  return false;
}

std::optional<ImageSize> Sized(std::uint32_t w, std::uint32_t h) {
  if (w == 0 || h == 0 || w > 1'000'000 || h > 1'000'000) return std::nullopt;
  return ImageSize{static_cast<int>(w), static_cast<int>(h)};
}

std::optional<ImageSize> JpegSize(std::string_view s) {
  std::size_t i = 2;
  while (i + 9 < s.size()) {
    if (Byte(s, i) != 0xFF) return std::nullopt;
    std::uint8_t marker = Byte(s, i + 1);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) return Sized(Be16(s, i + 7), Be16(s, i + 5));
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end of image, start of scan
    i += 2 + Be16(s, i + 2);
  }
  return std::nullopt;
}

std::optional<ImageSize> WebpSize(std::string_view s) {
  if (s.size() < 30) return std::nullopt;
  std::string_view chunk = s.substr(12, 4);
  if (chunk == "VP8 ") return Sized(Le16(s, 26) & 0x3FFF, Le16(s, 28) & 0x3FFF);
  if (chunk == "VP8L") {
    std::uint32_t bits = Le32(s, 21);
    return Sized((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") return Sized(Le24(s, 24) + 1, Le24(s, 27) + 1);
  return std::nullopt;
}

std::optional<ImageSize> BmpSize(std::string_view s) {
  if (s.size() < 26) return std::nullopt;
  if (Le32(s, 14) == 12) return Sized(Le16(s, 18), Le16(s, 20));
  auto height = static_cast<std::int32_t>(Le32(s, 22));  // negative: rows stored top-down
  return Sized(Le32(s, 18), static_cast<std::uint32_t>(std::abs(height)));
}

std::optional<ImageSize> AvifSize(std::string_view s) {
  std::string_view head = s.substr(0, std::min(s.size(), kAvifHeaderSearch));
  std::size_t at = head.find("ispe");
  // box type, then version and flags (4 bytes), then width and height.
  if (at == std::string_view::npos || at + 16 > head.size()) return std::nullopt;
  return Sized(Be32(head, at + 8), Be32(head, at + 12));
}

}  // namespace

ContentFormat SniffContent(std::string_view s) {
  if (s.size() >= 3 && Byte(s, 0) == 0xFF && Byte(s, 1) == 0xD8 && Byte(s, 2) == 0xFF) return ContentFormat::kJpeg;
  if (s.starts_with("\x89PNG\r\n\x1A\n")) return ContentFormat::kPng;
  if (s.starts_with("GIF87a") || s.starts_with("GIF89a")) return ContentFormat::kGif;
  if (s.size() >= 12 && s.starts_with("RIFF") && s.substr(8, 4) == "WEBP") return ContentFormat::kWebp;
  if (s.size() >= 18 && s.starts_with("BM")) {
    std::uint32_t dib = Le32(s, 14);
    for (auto size : kDibHeaderSizes)
      if (dib == size) return ContentFormat::kBmp;
  }
  if (IsAvif(s)) return ContentFormat::kAvif;
  if (LooksLikeHtml(s.substr(0, kSniffBytes))) return ContentFormat::kHtml;
  return ContentFormat::kUnknown;
}

bool IsImageFormat(ContentFormat format) {
  return format != ContentFormat::kUnknown && format != ContentFormat::kHtml;
}

std::string_view FormatName(ContentFormat format) {
  switch (format) {
    case ContentFormat::kJpeg: return "jpeg";
    case ContentFormat::kPng: return "png";
    case ContentFormat::kGif: return "gif";
    case ContentFormat::kWebp: return "webp";
    case ContentFormat::kBmp: return "bmp";
    case ContentFormat::kAvif: return "avif";
    case ContentFormat::kHtml: return "html";
    case ContentFormat::kUnknown: break;
  }
  return "unknown";
}

std::string_view FormatMediaType(ContentFormat format) {
  switch (format) {
    case ContentFormat::kJpeg: return "image/jpeg";
    case ContentFormat::kPng: return "image/png";
    case ContentFormat::kGif: return "image/gif";
    case ContentFormat::kWebp: return "image/webp";
    case ContentFormat::kBmp: return "image/bmp";
    case ContentFormat::kAvif: return "image/avif";
    case ContentFormat::kHtml: return "text/html";
    case ContentFormat::kUnknown: break;
  }
  return "";
}

std::optional<ImageSize> ReadImageSize(std::string_view s, ContentFormat format) {
  switch (format) {
    case ContentFormat::kJpeg: return JpegSize(s);
    case ContentFormat::kPng:
      if (s.size() < 24 || s.substr(12, 4) != "IHDR") return std::nullopt;
      return Sized(Be32(s, 16), Be32(s, 20));
    case ContentFormat::kGif:
      if (s.size() < 10) return std::nullopt;
      return Sized(Le16(s, 6), Le16(s, 8));
    case ContentFormat::kWebp: return WebpSize(s);
    case ContentFormat::kBmp: return BmpSize(s);
    case ContentFormat::kAvif: return AvifSize(s);
    case ContentFormat::kHtml:
    case ContentFormat::kUnknown: break;
  }
  return std::nullopt;
}

}  // namespace furrsight::workers
