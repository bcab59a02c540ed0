#include "workers/vision/image_header.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::workers::vision {
namespace {

using sample_site::Encode;

constexpr int kWidth = 321;  // odd sizes, unequal sides: a swapped or rounded field shows
constexpr int kHeight = 123;

cv::Mat Picture(int channels = 3) {
  cv::Mat bgr;
  cv::resize(sample_site::BeforePhoto(1), bgr, {kWidth, kHeight});
  if (channels == 3) return bgr;
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  // Some real transparency, or libwebp drops the alpha channel and writes plain VP8.
  cv::Mat alpha(bgra.size(), CV_8UC1, cv::Scalar(255));
  alpha(cv::Rect(0, 0, kWidth / 3, kHeight)).setTo(cv::Scalar(100));
  cv::insertChannel(alpha, bgra, 3);
  return bgra;
}

std::string Le16(int v) { return {static_cast<char>(v & 0xFF), static_cast<char>((v >> 8) & 0xFF)}; }
std::string Le32(std::int64_t v) { return Le16(static_cast<int>(v & 0xFFFF)) + Le16(static_cast<int>((v >> 16) & 0xFFFF)); }

struct Case {
  std::string name;
  std::string bytes;
  ImageFormat format;
  std::size_t signature;  // bytes that identify the format
  std::size_t header;     // bytes that hold the size
};

// Every format and variant the sniffer reads, encoded by OpenCV (libjpeg, libpng, libwebp) or by hand.
std::vector<Case> Cases() {
  std::vector<Case> cases;
  const std::string jpeg = Encode(Picture(), ".jpg");
  const std::size_t sof = jpeg.find("\xff\xc0");
  cases.push_back({"jpeg baseline", jpeg, ImageFormat::kJpeg, 3, sof + 9});
  std::vector<uchar> progressive;
  cv::imencode(".jpg", Picture(), progressive, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  const std::string prog(progressive.begin(), progressive.end());
  cases.push_back({"jpeg progressive (SOF2)", prog, ImageFormat::kJpeg, 3, prog.find("\xff\xc2") + 9});
  cases.push_back({"png", Encode(Picture(), ".png"), ImageFormat::kPng, 8, 24});
  cases.push_back({"webp lossy (VP8)", Encode(Picture(), ".webp", 80), ImageFormat::kWebp, 12, 30});
  cases.push_back({"webp lossless (VP8L)", Encode(Picture(), ".webp", 101), ImageFormat::kWebp, 12, 25});
  cases.push_back({"webp with alpha (VP8X)", Encode(Picture(4), ".webp", 80), ImageFormat::kWebp, 12, 30});
  cases.push_back({"bmp", Encode(Picture(), ".bmp"), ImageFormat::kBmp, 18, 26});
  // GIF (OpenCV 4.6 writes none): logical screen descriptor, no colour table, trailer.
  cases.push_back({"gif", "GIF89a" + Le16(kWidth) + Le16(kHeight) + std::string("\x00\x00\x00;", 4), ImageFormat::kGif,
                   6, 10});
  // BMP with the old 12-byte core header.
  cases.push_back({"bmp core header", "BM" + Le32(26) + Le32(0) + Le32(26) + Le32(12) + Le16(kWidth) + Le16(kHeight) +
                                          Le16(1) + Le16(24),
                   ImageFormat::kBmp, 18, 22});
  // Top-down BMP: a negative height in the info header.
  cases.push_back({"bmp top-down", "BM" + Le32(54) + Le32(0) + Le32(54) + Le32(40) + Le32(kWidth) + Le32(-kHeight) +
                                       Le16(1) + Le16(24) + std::string(24, '\0'),
                   ImageFormat::kBmp, 18, 26});
  return cases;
}

TEST(ImageHeader, WebpCasesCoverEveryChunkKind) {
  const auto cases = Cases();
  EXPECT_EQ(cases[3].bytes.substr(12, 4), "VP8 ");
  EXPECT_EQ(cases[4].bytes.substr(12, 4), "VP8L");
  EXPECT_EQ(cases[5].bytes.substr(12, 4), "VP8X");
}

TEST(ImageHeader, SniffsFormatAndSizeOfEveryFormat) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto header = SniffImageHeader(c.bytes);
    ASSERT_TRUE(header) << header.error().message;
    EXPECT_EQ(header->format, c.format);
    EXPECT_EQ(header->width, kWidth);
    EXPECT_EQ(header->height, kHeight);
    EXPECT_EQ(header->PixelCount(), std::int64_t{kWidth} * kHeight);
  }
}

TEST(ImageHeader, NeedsOnlyTheHeaderBytes) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto header = SniffImageHeader(std::string_view(c.bytes).substr(0, c.header));
    ASSERT_TRUE(header) << header.error().message;
    EXPECT_EQ(header->width, kWidth);
  }
}

TEST(ImageHeader, RefusesEveryTruncationBeforeTheSize) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    for (std::size_t n = 0; n < c.header; ++n) {
      auto header = SniffImageHeader(std::string_view(c.bytes).substr(0, n));
      ASSERT_FALSE(header) << n << " bytes were enough";
      EXPECT_EQ(header.error().code, base::ErrorCode::kInvalidArgument);
      if (n >= c.signature) {
        EXPECT_NE(header.error().message.find("truncated"), std::string::npos) << header.error().message;
      }
    }
  }
}

TEST(ImageHeader, ContentTypeComesFromTheMagicNumbers) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(SniffFormat(c.bytes), c.format);
  }
  EXPECT_EQ(ContentType(ImageFormat::kJpeg), "image/jpeg");
  EXPECT_EQ(ContentType(ImageFormat::kWebp), "image/webp");
  EXPECT_EQ(FormatName(ImageFormat::kPng), "png");
  EXPECT_EQ(ParseFormatName("JPG"), ImageFormat::kJpeg);
  EXPECT_EQ(ParseFormatName("tiff"), std::nullopt);
  // An HTML error page served as image/jpeg is not an image.
  EXPECT_EQ(SniffFormat("<!DOCTYPE html><html>"), std::nullopt);
  EXPECT_EQ(SniffFormat("BMW 3 series for sale, only 90000 km"), std::nullopt);
}

TEST(ImageHeader, RefusesGarbageWithTheFirstBytes) {
  auto empty = SniffImageHeader("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "not an image: no bytes");
  auto html = SniffImageHeader("<html><body>404</body></html>");
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().message, "not a supported image (jpeg, png, gif, webp, bmp): first bytes 3c68746d6c3e3c62");
  cv::RNG rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string noise(64, '\0');
    for (char& ch : noise) ch = static_cast<char>(rng.uniform(0, 256));
    auto header = SniffImageHeader(noise);
    if (header) {
      ADD_FAILURE() << "random bytes read as " << FormatName(header->format);
    }
  }
}

TEST(ImageHeader, RefusesMalformedHeaders) {
  std::string png = Encode(Picture(), ".png");
  png.replace(16, 4, std::string(4, '\0'));  // width 0
  auto zero = SniffImageHeader(png);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "png header declares an impossible size 0x123");

  std::string not_ihdr = Encode(Picture(), ".png");
  not_ihdr.replace(12, 4, "IDAT");
  EXPECT_EQ(SniffImageHeader(not_ihdr).error().message, "png: the first chunk is not IHDR");

  // Scan data before any frame header.
  const std::string sos_first("\xff\xd8\xff\xda\x00\x02", 6);
  EXPECT_EQ(SniffImageHeader(sos_first).error().message, "jpeg: scan data (SOS) before any frame header (SOF)");
  // A byte where a marker must be.
  const std::string stray("\xff\xd8\xff\xe0\x00\x04\x00\x00\x42", 9);
  EXPECT_EQ(SniffImageHeader(stray).error().message, "jpeg: expected a marker at offset 8, found byte 0x42");

  std::string webp = Encode(Picture(), ".webp", 80);
  webp.replace(12, 4, "ABCD");
  EXPECT_EQ(SniffImageHeader(webp).error().message, "webp: unknown first chunk 'ABCD'");
}

TEST(ImageHeader, ReadsSizesAboveTheDecoderLimitsWithoutComplaint) {
  // The sniffer reports what a file claims; refusing it is the caller's decision.
  std::string png = Encode(Picture(), ".png");
  png.replace(16, 8, std::string("\x00\x00\xc3\x50\x00\x00\xc3\x50", 8));  // 50000 x 50000
  auto header = SniffImageHeader(png);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->PixelCount(), 2'500'000'000);
}

}  // namespace
}  // namespace furrsight::workers::vision
