#include "events/base/uuid.hpp"

#include <set>

#include <gtest/gtest.h>

namespace furrsight::base {
namespace {

TEST(Uuid, FromNameIsDeterministicAcrossReleases) {
  EXPECT_EQ(UuidFromName("furrsight.test", "job-1"), UuidFromName("furrsight.test", "job-1"));
  // Pinned: ids derived from names are stored, so this value may never change.
  // (= SHA-256("14:furrsight.testjob-1")[0:16] with version 8 and variant set)
  EXPECT_EQ(UuidFromName("furrsight.test", "job-1"), "0e98f9fd-ab6a-831f-a9e5-9f2f30d49820");
}

TEST(Uuid, FromNameSeparatesNamespaceAndName) {
  EXPECT_NE(UuidFromName("furrsight.test", "job-1"), UuidFromName("furrsight.test", "job-2"));
  EXPECT_NE(UuidFromName("furrsight.test", "job-1"), UuidFromName("furrsight.other", "job-1"));
  EXPECT_NE(UuidFromName("ab", "c"), UuidFromName("a", "bc"));
}

TEST(Uuid, FromNameIsVersion8WithTheRfcVariant) {
  std::string id = UuidFromName("ns", "name");
  ASSERT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(id[14], '8');
  EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
}

TEST(Uuid, NewIsRandomVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;
    EXPECT_TRUE(seen.insert(id).second) << "repeated " << id;
  }
}

TEST(Uuid, IsUuidAcceptsOnlyTheCanonicalForm) {
  EXPECT_TRUE(IsUuid("7c9e6679-7425-40de-944b-e07fc1f90ae7"));
  EXPECT_TRUE(IsUuid("7C9E6679-7425-40DE-944B-E07FC1F90AE7"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("7c9e6679742540de944be07fc1f90ae7"));       // no dashes
  EXPECT_FALSE(IsUuid("7c9e6679-7425-40de-944b-e07fc1f90ae"));    // short
  EXPECT_FALSE(IsUuid("7c9e6679-7425-40de-944b-e07fc1f90ae70"));  // long
  EXPECT_FALSE(IsUuid("7c9e6679-7425-40de-944b-e07fc1f90aeg"));   // not hex
  EXPECT_FALSE(IsUuid("7c9e667-97425-40de-944b-e07fc1f90ae7"));   // dash misplaced
  EXPECT_FALSE(IsUuid("{7c9e6679-7425-40de-944b-e07fc1f90ae}"));
}

}  // namespace
}  // namespace furrsight::base
