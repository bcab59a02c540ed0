#include "workers/vision/image_codec.hpp"

#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::workers::vision {
namespace {

using sample_site::Encode;

// A PNG / JPEG whose header claims 50000 x 50000 (2.5 gigapixels, 7.5 GB decoded)
// in front of the data of a small picture.
std::string ForgedPng() {
  std::string png = Encode(sample_site::BeforePhoto(1), ".png");
  png.replace(16, 8, std::string("\x00\x00\xc3\x50\x00\x00\xc3\x50", 8));
  return png;
}

std::string ForgedJpeg() {
  std::string jpeg = Encode(sample_site::BeforePhoto(1), ".jpg");
  const std::size_t sof = jpeg.find("\xff\xc0");
  jpeg.replace(sof + 5, 4, std::string("\xc3\x50\xc3\x50", 4));
  return jpeg;
}

TEST(ImageCodec, RefusesAForgedHugeHeaderBeforeDecoding) {
  for (const std::string& bytes : {ForgedPng(), ForgedJpeg()}) {
    auto decoded = DecodeImage(bytes);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code, base::ErrorCode::kInvalidArgument);
    EXPECT_NE(decoded.error().message.find("refusing to decode"), std::string::npos) << decoded.error().message;
    EXPECT_NE(decoded.error().message.find("50000x50000 = 2500000000 pixels, above the limit of 50000000"),
              std::string::npos)
        << decoded.error().message;
  }
}

TEST(ImageCodec, TheLimitIsTheCallers) {
  const std::string jpeg = Encode(sample_site::BeforePhoto(1), ".jpg");
  EXPECT_TRUE(DecodeImage(jpeg, 640 * 480));
  auto refused = DecodeImage(jpeg, 640 * 480 - 1);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("refusing to decode"), std::string::npos);
}

TEST(ImageCodec, DecodesEveryFormatToBgrOfTheDeclaredSize) {
  const cv::Mat photo = sample_site::BeforePhoto(2);
  for (const char* extension : {".jpg", ".png", ".webp", ".bmp"}) {
    SCOPED_TRACE(extension);
    auto decoded = DecodeImage(Encode(photo, extension, 90));
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(decoded->pixels.type(), CV_8UC3);
    EXPECT_EQ(decoded->pixels.cols, photo.cols);
    EXPECT_EQ(decoded->pixels.rows, photo.rows);
    EXPECT_EQ(decoded->header.width, photo.cols);
  }
}

TEST(ImageCodec, FlattensTransparencyOntoWhite) {
  cv::Mat bgra(40, 60, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // fully transparent black
  bgra(cv::Rect(0, 0, 30, 40)).setTo(cv::Scalar(0, 0, 200, 255));  // opaque red on the left
  auto decoded = DecodeImage(Encode(bgra, ".png"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->pixels.at<cv::Vec3b>(20, 45), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(decoded->pixels.at<cv::Vec3b>(20, 10), cv::Vec3b(0, 0, 200));
}

TEST(ImageCodec, ScalesSixteenBitPngsToEight) {
  cv::Mat deep(20, 20, CV_16UC3, cv::Scalar(65535, 32896, 0));
  auto decoded = DecodeImage(Encode(deep, ".png"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->pixels.type(), CV_8UC3);
  EXPECT_EQ(decoded->pixels.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 128, 0));
}

TEST(ImageCodec, RefusesCorruptDataAndGif) {
  std::string jpeg = Encode(sample_site::BeforePhoto(3), ".jpg");
  const std::size_t sos = jpeg.find("\xff\xda");
  auto truncated = DecodeImage(jpeg.substr(0, sos));  // the header is whole, the pixels are missing
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().message, "jpeg data is corrupt or truncated: the decoder read nothing");

  const std::string gif = std::string("GIF89a\x10\x00\x10\x00\x00\x00\x00;", 14);
  auto no_reader = DecodeImage(gif);
  ASSERT_FALSE(no_reader);
  EXPECT_EQ(no_reader.error().message, "gif cannot be decoded: OpenCV 4.6 has no GIF reader");
}

TEST(ImageCodec, RefusesAnAlteredHeaderThatIsWithinTheLimit) {
  std::string png = Encode(sample_site::BeforePhoto(1), ".png");
  png.replace(16, 8, std::string("\x00\x00\x01\x00\x00\x00\x01\x00", 8));  // claims 256 x 256
  auto decoded = DecodeImage(png);
  ASSERT_FALSE(decoded);  // libpng checks IHDR's CRC: nothing is decoded
  EXPECT_EQ(decoded.error().message, "png data is corrupt or truncated: the decoder read nothing");
}

TEST(ImageCodec, EncodesAndRefusesGif) {
  const cv::Mat photo = sample_site::BeforePhoto(4);
  for (ImageFormat format : {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kBmp}) {
    auto encoded = EncodeImage(photo, format, 85);
    ASSERT_TRUE(encoded) << encoded.error().message;
    auto header = SniffImageHeader(encoded->bytes);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->format, format);
    EXPECT_EQ(header->width, 640);
  }
  EXPECT_FALSE(EncodeImage(photo, ImageFormat::kGif));
  EXPECT_EQ(EncodeImage(photo, ImageFormat::kJpeg, 0).error().message, "jpeg quality 0 is not within 1-100");
  EXPECT_EQ(EncodeImage(cv::Mat(), ImageFormat::kJpeg).error().message, "image to encode is empty");
}

TEST(ImageCodec, DownscalesForTheModel) {
  cv::Mat large;
  cv::resize(sample_site::BeforePhoto(5), large, {2000, 1500});
  auto small = DownscaleForModel(large, {.max_side = 1024, .jpeg_quality = 80});
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->format, ImageFormat::kJpeg);
  EXPECT_EQ(small->width, 1024);
  EXPECT_EQ(small->height, 768);
  auto header = SniffImageHeader(small->bytes);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->width, 1024);
  EXPECT_EQ(header->height, 768);

  // Never enlarged.
  auto kept = DownscaleForModel(sample_site::BeforePhoto(5), {.max_side = 1024});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->width, 640);
  EXPECT_EQ(kept->height, 480);

  // Quality shows in the size.
  auto rough = DownscaleForModel(large, {.max_side = 1024, .jpeg_quality = 30});
  ASSERT_TRUE(rough);
  EXPECT_LT(rough->bytes.size(), small->bytes.size());

  EXPECT_EQ(DownscaleForModel(large, {.max_side = 0}).error().message, "max_side 0 must be at least 1");
  cv::Mat floats(10, 10, CV_32FC3);
  EXPECT_EQ(DownscaleForModel(floats).error().message,
            "image to downscale must be 8-bit with 1, 3 or 4 channels (type 21)");
}

}  // namespace
}  // namespace furrsight::workers::vision
