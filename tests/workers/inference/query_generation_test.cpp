#include "workers/inference/query_generation.hpp"

#include <gtest/gtest.h>

#include "workers/inference/json_schema.hpp"

namespace furrsight::workers::inference {
namespace {

TEST(QueryGenerationTest, RequestAsksForExactlyNQueriesOnTheTopic) {
  auto prompt = BuiltInPrompt(kQueryPromptName, 1);
  ASSERT_TRUE(prompt);
  auto r = BuildQueryRequest(*prompt, "  doodle first haircut ", 7);
  ASSERT_TRUE(r) << r.error().message;
  const std::string_view user = r->at("messages").as_array()[1].at("content").as_string();
  EXPECT_NE(user.find("Topic: doodle first haircut\n"), std::string_view::npos);
  EXPECT_NE(user.find("Write 7 different"), std::string_view::npos);
  const auto& js = r->at("response_format").at("json_schema");
  EXPECT_EQ(js.at("name"), "search_queries");
  EXPECT_EQ(js.at("schema").at("properties").at("queries").at("minItems"), 7);
  EXPECT_TRUE(CheckSchema(js.at("schema")));
  EXPECT_FALSE(BuildQueryRequest(*prompt, " ", 7));
  EXPECT_FALSE(BuildQueryRequest(*prompt, "x", 0));
  EXPECT_FALSE(BuildQueryRequest(*prompt, "x", kMaxQueryCount + 1));
}

TEST(QueryGenerationTest, ParseTrimsDeduplicatesAndChecksTheCount) {
  auto q = ParseQueryAnswer(R"({"queries":[" poodle makeover ","Poodle Makeover","shih tzu puppy cut"]})", 3);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(*q, (std::vector<std::string>{"poodle makeover", "shih tzu puppy cut"}));
  EXPECT_FALSE(ParseQueryAnswer(R"({"queries":["a","b"]})", 3));
  EXPECT_FALSE(ParseQueryAnswer(R"(["a","b","c"])", 3));
  EXPECT_FALSE(ParseQueryAnswer(R"({"queries":["a","b","c"],"extra":1})", 3));
}

}  // namespace
}  // namespace furrsight::workers::inference
