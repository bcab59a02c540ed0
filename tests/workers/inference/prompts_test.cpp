#include "workers/inference/prompts.hpp"

#include <gtest/gtest.h>

namespace furrsight::workers::inference {
namespace {

TEST(PromptsTest, EveryBuiltInPromptFileParses) {
  const auto files = BuiltInPromptFiles();
  ASSERT_GE(files.size(), 2u);
  for (const auto& f : files) {
    auto p = ParsePrompt(f);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE(p->system.empty());
    EXPECT_FALSE(p->user.empty());
    EXPECT_EQ(p->VersionTag() + ".md", f.file_name);
  }
}

TEST(PromptsTest, BuiltInPromptPicksTheHighestVersionOrTheOneAskedFor) {
  auto latest = BuiltInPrompt("pair_analysis");
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_GE(latest->version, 1);
  auto v1 = BuiltInPrompt("pair_analysis", 1);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->VersionTag(), "pair_analysis.v1");
  EXPECT_NE(v1->user.find("{{services}}"), std::string::npos);
  EXPECT_EQ(BuiltInPrompt("pair_analysis", 99).error().code, base::ErrorCode::kNotFound);
  EXPECT_EQ(BuiltInPrompt("nope").error().code, base::ErrorCode::kNotFound);
  EXPECT_TRUE(BuiltInPrompt("generate_queries", 1));
}

TEST(PromptsTest, ParseKeepsOnlyTheSectionsAndChecksTheName) {
  auto p = ParsePrompt({"demo.v3.md", "# notes for people\n\n## system\n  Be brief.\n## user\nHi {{x}}.\n"});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "demo");
  EXPECT_EQ(p->version, 3);
  EXPECT_EQ(p->system, "Be brief.");
  EXPECT_EQ(p->user, "Hi {{x}}.");
  EXPECT_FALSE(ParsePrompt({"demo.md", "## system\na\n## user\nb\n"}));
  EXPECT_FALSE(ParsePrompt({"demo.v0.md", "## system\na\n## user\nb\n"}));
  EXPECT_FALSE(ParsePrompt({"demo.v1.md", "## system\na\n"}));
  EXPECT_FALSE(ParsePrompt({"demo.v1.md", "## system\na\n## user\nb\n## user\nc\n"}));
}

TEST(PromptsTest, RenderFillsPlaceholdersAndRefusesMissingOnes) {
  auto r = RenderTemplate("Find {{count}} queries on {{ topic }}.", {{"count", "3"}, {"topic", "poodles"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "Find 3 queries on poodles.");
  auto missing = RenderTemplate("Hi {{who}}", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("{{who}}"), std::string::npos);
  EXPECT_FALSE(RenderTemplate("Hi {{who", {{"who", "x"}}));
}

}  // namespace
}  // namespace furrsight::workers::inference
