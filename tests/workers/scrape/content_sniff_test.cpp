#include "workers/scrape/content_sniff.hpp"

#include <gtest/gtest.h>

#include <string>

#include "workers/scrape/http_headers.hpp"

namespace furrsight::workers {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

std::string Be32(std::uint32_t v) { return Bytes({int(v >> 24), int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)}); }
std::string Le16(std::uint32_t v) { return Bytes({int(v & 255), int(v >> 8)}); }
std::string Le32(std::uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }

// Minimal headers of each format, 640x480 (what a real encoder writes first).
std::string Jpeg() {
  return Bytes({0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10}) + "JFIF" + std::string(10, '\0') +  // APP0, 16 bytes
         Bytes({0xFF, 0xDB, 0x00, 0x04, 0x00, 0x00}) +                                 // DQT stub
         Bytes({0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03}) + std::string(20, '\0');
}
std::string Png() { return std::string("\x89PNG\r\n\x1A\n", 8) + Be32(13) + "IHDR" + Be32(640) + Be32(480) + std::string(5, '\0'); }
std::string Gif() { return "GIF89a" + Le16(640) + Le16(480) + std::string(10, '\0'); }
std::string WebpLossy() {
  return "RIFF" + Le32(100) + "WEBP" + "VP8 " + Le32(80) + std::string(3, '\0') +  // frame tag
         Bytes({0x9D, 0x01, 0x2A}) + Le16(640) + Le16(480) + std::string(10, '\0');
}
std::string WebpExtended() { return "RIFF" + Le32(100) + "WEBP" + "VP8X" + Le32(10) + Le32(0) + Bytes({0x7F, 0x02, 0x00, 0xDF, 0x01, 0x00}) + std::string(8, '\0'); }
std::string Bmp() { return "BM" + Le32(1000) + Le32(0) + Le32(54) + Le32(40) + Le32(640) + Le32(static_cast<std::uint32_t>(-480)) + std::string(20, '\0'); }
std::string Avif() {
  return Be32(28) + "ftyp" + "mif1" + Be32(0) + "mif1" + "avif" + "miaf" + Be32(20) + "ispe" + Be32(0) + Be32(640) + Be32(480);
}

TEST(ContentSniff, ImageFormatsFromMagicBytes) {
  EXPECT_EQ(SniffContent(Jpeg()), ContentFormat::kJpeg);
  EXPECT_EQ(SniffContent(Png()), ContentFormat::kPng);
  EXPECT_EQ(SniffContent(Gif()), ContentFormat::kGif);
  EXPECT_EQ(SniffContent(WebpLossy()), ContentFormat::kWebp);
  EXPECT_EQ(SniffContent(Bmp()), ContentFormat::kBmp);
  EXPECT_EQ(SniffContent(Avif()), ContentFormat::kAvif);
  for (auto f : {ContentFormat::kJpeg, ContentFormat::kPng, ContentFormat::kGif, ContentFormat::kWebp,
                 ContentFormat::kBmp, ContentFormat::kAvif})
    EXPECT_TRUE(IsImageFormat(f));
  EXPECT_EQ(FormatName(ContentFormat::kWebp), "webp");
  EXPECT_EQ(FormatMediaType(ContentFormat::kAvif), "image/avif");
}

TEST(ContentSniff, HtmlAndNotImages) {
  EXPECT_EQ(SniffContent("<!DOCTYPE html><html>"), ContentFormat::kHtml);
  EXPECT_EQ(SniffContent("\xEF\xBB\xBF\n  <HTML lang=en>"), ContentFormat::kHtml);
  EXPECT_EQ(SniffContent("<!-- generated --><div>"), ContentFormat::kHtml);
  EXPECT_EQ(SniffContent("<p>Sorry, not found</p>"), ContentFormat::kHtml);
  EXPECT_EQ(SniffContent("<svg xmlns='http://www.w3.org/2000/svg'>"), ContentFormat::kUnknown);
  EXPECT_EQ(SniffContent("<pre>x</pre>"), ContentFormat::kUnknown);  // "<p" then 'r'
  EXPECT_EQ(SniffContent("BM not a bitmap at all"), ContentFormat::kUnknown);
  EXPECT_EQ(SniffContent(std::string("\x00\x00\x00\x18" "ftypheic", 12)), ContentFormat::kUnknown);
  EXPECT_EQ(SniffContent("GIF8"), ContentFormat::kUnknown);
  EXPECT_EQ(SniffContent(""), ContentFormat::kUnknown);
  EXPECT_FALSE(IsImageFormat(ContentFormat::kHtml));
}

TEST(ContentSniff, DimensionsFromHeaders) {
  const ImageSize vga{640, 480};
  EXPECT_EQ(ReadImageSize(Jpeg(), ContentFormat::kJpeg), vga);
  EXPECT_EQ(ReadImageSize(Png(), ContentFormat::kPng), vga);
  EXPECT_EQ(ReadImageSize(Gif(), ContentFormat::kGif), vga);
  EXPECT_EQ(ReadImageSize(WebpLossy(), ContentFormat::kWebp), vga);
  EXPECT_EQ(ReadImageSize(WebpExtended(), ContentFormat::kWebp), vga);
  EXPECT_EQ(ReadImageSize(Bmp(), ContentFormat::kBmp), vga);  // stored top-down
  EXPECT_EQ(ReadImageSize(Avif(), ContentFormat::kAvif), vga);
  EXPECT_FALSE(ReadImageSize(Jpeg().substr(0, 12), ContentFormat::kJpeg).has_value());
  EXPECT_FALSE(ReadImageSize("<html>", ContentFormat::kHtml).has_value());
}

TEST(HttpHeaders, RetryAfterSecondsOrDate) {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), std::chrono::seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 22:14:20 GMT", now), std::chrono::seconds(60));
  EXPECT_EQ(ParseRetryAfter("Tue, 14 Nov 2023 20:00:00 GMT", now), std::chrono::seconds(0));
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_EQ(MediaTypeOf("Text/HTML; charset=UTF-8"), "text/html");
}

}  // namespace
}  // namespace furrsight::workers
