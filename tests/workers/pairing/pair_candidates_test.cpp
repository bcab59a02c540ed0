// Candidates from a page's cues: labelled pairs, adjacency, and what must not pair.
#include "workers/pairing/pair_candidates.hpp"

#include <gtest/gtest.h>

namespace furrsight::workers::pairing {
namespace {

PageImage Img(std::string url, int position, std::string alt = "", std::string caption = "", std::string nearby = "") {
  return {std::move(url), std::move(alt), "", std::move(caption), std::move(nearby), position};
}

TEST(PairCandidates, LabelsComeFromTheStrongestCueAndWholeWordsOnly) {
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "Bella before her groom")).field, "alt");
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "Bella before her groom")).side, Side::kBefore);
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "", "After: a lion cut")).side, Side::kAfter);
  EXPECT_EQ(LabelOf(Img("https://x/img/max-after.jpg?v=2", 0)).field, "filename");
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "Our afternoon walk")).side, Side::kNone) << "not inside a word";
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "Before and after")).side, Side::kNone) << "both words: no side";
  EXPECT_EQ(LabelOf(Img("u/a.jpg", 0, "", "", "post-groom shine")).field, "text");
}

TEST(PairCandidates, EachBeforePairsWithTheNearestAfterOnce) {
  auto c = FindCandidates({Img("b1.jpg", 0, "Bella before"), Img("a1.jpg", 1, "Bella after"),
                           Img("b2.jpg", 2, "Max before"), Img("a2.jpg", 3, "Max after")});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].before_url, "b1.jpg");
  EXPECT_EQ(c[0].after_url, "a1.jpg");
  EXPECT_EQ(c[0].cue, "alt:before/after");
  EXPECT_EQ(c[1].before_url, "b2.jpg");
  EXPECT_EQ(c[1].after_url, "a2.jpg");
}

TEST(PairCandidates, UnlabelledNeighboursBecomeAdjacentCandidatesAndLabelledOnesDoNot) {
  auto c = FindCandidates({Img("logo.png", 0), Img("x.jpg", 1), Img("b.jpg", 2, "before"), Img("a.jpg", 3, "after"),
                           Img("y.jpg", 4)});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].cue, "alt:before/after");
  EXPECT_EQ(c[1].cue, "adjacent");
  EXPECT_EQ(c[1].before_url, "logo.png");
  EXPECT_EQ(c[1].after_url, "x.jpg");
  EXPECT_LT(c[1].score, c[0].score);
}

TEST(PairCandidates, TheSameImageTwiceOnAPageNeverPairsWithItself) {
  auto c = FindCandidates({Img("a.jpg", 0), Img("a.jpg", 1)});
  EXPECT_TRUE(c.empty());
  EXPECT_TRUE(FindCandidates({Img("b.jpg", 0, "before")}).empty()) << "a before with no after";
}

}  // namespace
}  // namespace furrsight::workers::pairing
