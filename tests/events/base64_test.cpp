#include "events/base/base64.hpp"

#include <gtest/gtest.h>

namespace furrsight::base {
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

TEST(Base64UrlTest, EncodesWithoutPaddingInTheUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode(std::string("\xFB\xFF\xBF", 3)), "-_-_");
  EXPECT_EQ(Base64UrlEncode(R"({"alg":"RS256"})"), "eyJhbGciOiJSUzI1NiJ9");
}

TEST(Base64UrlTest, DecodeRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string part = all.substr(0, n);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(part)), part) << n;
  }
}

TEST(Base64UrlTest, DecodeRefusesPaddingStandardAlphabetAndImpossibleLengths) {
  EXPECT_FALSE(Base64UrlDecode("Zg=="));   // padding
  EXPECT_FALSE(Base64UrlDecode("+/+/"));   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));  // 1 mod 4
  EXPECT_FALSE(Base64UrlDecode("Zh"));     // non-zero leftover bits
  EXPECT_FALSE(Base64UrlDecode("Zm 9v"));  // whitespace
}

}  // namespace
}  // namespace furrsight::base
