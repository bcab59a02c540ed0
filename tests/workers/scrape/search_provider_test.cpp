#include "workers/scrape/search_provider.hpp"

#include <gtest/gtest.h>

#include "workers/scrape/failure.hpp"

namespace furrsight::workers {
namespace {

TEST(SearxngResponse, ResultsWithUrlOrImageAreKept) {
  auto results = ParseSearxngResponse(R"({
    "query": "poodle before after grooming", "number_of_results": 3,
    "results": [
      {"url": "https://salon.example/gallery", "title": "Gallery", "engine": "bing images",
       "img_src": "https://cdn.example/poodle-after.jpg", "thumbnail_src": "https://t.example/1.jpg"},
      {"url": "https://blog.example/post", "title": "A post", "engine": "duckduckgo"},
      {"title": "no url at all"},
      "not an object"
    ],
    "answers": [], "suggestions": []})");
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].url, "https://salon.example/gallery");
  EXPECT_EQ((*results)[0].image_url, "https://cdn.example/poodle-after.jpg");
  EXPECT_EQ((*results)[0].engine, "bing images");
  EXPECT_EQ((*results)[1].image_url, "");
}

TEST(SearxngResponse, NotTheApiIsAnError) {
  EXPECT_FALSE(ParseSearxngResponse("<html>rate limited</html>").has_value());
  EXPECT_FALSE(ParseSearxngResponse(R"({"query": "x"})").has_value());
  EXPECT_TRUE(ParseSearxngResponse(R"({"results": []})")->empty());
}

TEST(FailureCounts, EveryClassHasAStableName) {
  FailureCounts counts;
  counts.Add(FailureClass::kHttp4xx, 2);
  counts.Add(FailureClass::kSsrf);
  EXPECT_EQ(counts.Total(), 3);
  auto json = counts.ToJson();
  EXPECT_EQ(json.size(), kFailureClassCount);
  EXPECT_EQ(json.at("http_4xx").as_int64(), 2);
  EXPECT_EQ(json.at("ssrf").as_int64(), 1);
  EXPECT_EQ(json.at("dns").as_int64(), 0);
  for (std::size_t i = 0; i < kFailureClassCount; ++i) {
    auto failure = static_cast<FailureClass>(i);
    EXPECT_EQ(ParseFailureClass(FailureClassName(failure)), failure);
  }
  EXPECT_FALSE(ParseFailureClass("gremlins").has_value());
}

}  // namespace
}  // namespace furrsight::workers
