#include "events/base/log.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace furrsight::base::log {
namespace {

TEST(Log, RecordIsOneJsonObjectWithTypedFields) {
  std::string line = FormatRecord(Level::kWarn, "say \"hi\"\n", {{"count", 3}, {"ok", true}, {"name", "a\tb"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per record";
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("level").as_string(), "warn");
  EXPECT_EQ(v.at("msg").as_string(), "say \"hi\"\n");
  EXPECT_EQ(v.at("count").as_int64(), 3);
  EXPECT_EQ(v.at("ok").as_bool(), true);
  EXPECT_EQ(v.at("name").as_string(), "a\tb");
  EXPECT_TRUE(v.contains("ts"));
}

TEST(Log, ParseLevelAcceptsKnownNamesOnly) {
  Level level = Level::kInfo;
  EXPECT_TRUE(ParseLevel("debug", level));
  EXPECT_EQ(level, Level::kDebug);
  EXPECT_FALSE(ParseLevel("loud", level));
  EXPECT_EQ(level, Level::kDebug);
}

}  // namespace
}  // namespace furrsight::base::log
