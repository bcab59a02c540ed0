#include "events/base/text.hpp"

#include <string>

#include <gtest/gtest.h>

namespace furrsight::base {
namespace {

TEST(TextTest, TrimLowerAndSlug) {
  EXPECT_EQ(Trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_EQ(Lower("Shih TZU"), "shih tzu");
  EXPECT_EQ(Slug("Shih Tzu"), "shih-tzu");
  EXPECT_EQ(Slug("  --Bichon  Frisé!"), "bichon-fris\xc3\xa9");
}

TEST(TextTest, WellFormedUtf8IsAccepted) {
  for (const std::string& text : {std::string(), std::string("plain ascii"), std::string("caf\xc3\xa9"),
                                 std::string("\xe2\x82\xac 5"), std::string("\xf0\x9f\x90\xb6 dog"),
                                 std::string("\xef\xbf\xbf"), std::string("\xf4\x8f\xbf\xbf"),
                                 std::string("a\0b", 3)})
    EXPECT_TRUE(IsValidUtf8(text)) << text;
}

TEST(TextTest, MalformedUtf8IsRefused) {
  for (const std::string& text : {
           std::string("\xff\xfe"),          // never valid bytes
           std::string("\x80"),              // a stray continuation byte
           std::string("caf\xc3"),           // cut short
           std::string("\xc3\x28"),          // a bad continuation byte
           std::string("\xc0\xaf"),          // overlong '/'
           std::string("\xe0\x80\xaf"),      // overlong, three bytes
           std::string("\xf0\x80\x80\xaf"),  // overlong, four bytes
           std::string("\xed\xa0\x80"),      // a UTF-16 surrogate
           std::string("\xf4\x90\x80\x80"),  // past U+10FFFF
           std::string("\xf5\x80\x80\x80"),
       })
    EXPECT_FALSE(IsValidUtf8(text)) << testing::PrintToString(text);
}

TEST(TextTest, StorableTextIsUtf8WithoutNul) {
  EXPECT_TRUE(IsStorableText("caf\xc3\xa9"));
  EXPECT_FALSE(IsStorableText(std::string("a\0b", 3)));
  EXPECT_FALSE(IsStorableText("\xff"));
}

}  // namespace
}  // namespace furrsight::base
