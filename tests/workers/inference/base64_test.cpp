#include "workers/inference/base64.hpp"

#include <gtest/gtest.h>

namespace furrsight::workers::inference {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xFF\xD8\xFF", 3)), "/9j/");
}

TEST(Base64Test, DecodeRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(Base64Decode(Base64Encode(part)), part);
  }
}

TEST(Base64Test, DecodeRefusesMalformedText) {
  EXPECT_FALSE(Base64Decode("Zg="));     // length
  EXPECT_FALSE(Base64Decode("Z===") );   // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zg==")); // padding inside
  EXPECT_FALSE(Base64Decode("Zm9*"));    // alphabet
}

}  // namespace
}  // namespace furrsight::workers::inference
