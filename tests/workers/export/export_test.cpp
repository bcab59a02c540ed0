// The export's pieces without services: archives read back with the standard
// tools (tar, unzip), Zip64 past 65,535 entries, deterministic bytes, and
// splits that keep near-duplicates together.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <bit>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/shell.hpp"

#include "events/base/uuid.hpp"
#include "workers/export/archive_writer.hpp"
#include "workers/export/splits.hpp"

namespace furrsight::workers::exporting {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

using testing::Shell;
using testing::ShellRun;
using testing::ReadWholeFile;

class ArchiveTest : public ::testing::TestWithParam<ArchiveKind> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("furrsight-archive-test-" + base::NewUuid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Three entries: a long path (ustar prefix), an empty file, 3 MiB written in chunks.
  fs::path Write(const std::string& name) {
    const fs::path file = dir_ / name;
    auto out = ArchiveOutput::Create(file);
    EXPECT_TRUE(out.has_value());
    auto archive = MakeArchiveWriter(GetParam(), **out, 1'765'000'000);
    EXPECT_TRUE(archive->AddBytes(LongName(), "hello, groomer\n"));
    EXPECT_TRUE(archive->AddBytes("root/empty.txt", ""));
    EXPECT_TRUE(archive->Add("root/big.bin", 3 << 20, [&](const ChunkSink& sink) -> base::Result<void> {
      for (int i = 0; i < 3; ++i)
        if (auto ok = sink(Big().substr(static_cast<std::size_t>(i) << 20, 1 << 20)); !ok) return ok;
      return {};
    }));
    EXPECT_TRUE(archive->Finish());
    EXPECT_TRUE((*out)->Close());
    return file;
  }
  static std::string LongName() {
    return "furrsight-grooming-123456.789/validation/" + std::string(40, 'a') + "/" + std::string(70, 'b') + ".json";
  }
  static const std::string& Big() {
    static const std::string big = [] {
      std::string s(3 << 20, '\0');
      for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 131) ^ (i >> 9));
      return s;
    }();
    return big;
  }
  fs::path dir_;
};

TEST_P(ArchiveTest, StandardToolsListAndExtractEveryEntry) {
  const fs::path file = Write("a");
  const bool zip = GetParam() == ArchiveKind::kZip;
  const ShellRun check = Shell(zip ? "unzip -t " + file.string() : "tar -tvf " + file.string());
  ASSERT_EQ(check.code, 0) << check.out;
  EXPECT_NE(check.out.find(LongName()), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("root/big.bin"), std::string::npos) << check.out;
  if (zip) {
    EXPECT_NE(check.out.find("No errors detected"), std::string::npos) << check.out;
  }
  const fs::path out = dir_ / "x";
  fs::create_directories(out);
  const ShellRun extract = Shell(zip ? "cd " + out.string() + " && unzip -q " + file.string()
                                : "tar -xf " + file.string() + " -C " + out.string());
  ASSERT_EQ(extract.code, 0) << extract.out;
  EXPECT_EQ(ReadWholeFile(out / LongName()), "hello, groomer\n");
  EXPECT_EQ(ReadWholeFile(out / "root/empty.txt"), "");
  EXPECT_EQ(ReadWholeFile(out / "root/big.bin"), Big());
  EXPECT_EQ(fs::last_write_time(out / "root/big.bin").time_since_epoch().count() != 0, true);
}

TEST_P(ArchiveTest, TheSameEntriesGiveTheSameBytes) {
  EXPECT_EQ(ReadWholeFile(Write("a")), ReadWholeFile(Write("b")));
}

TEST_P(ArchiveTest, AFillThatDeliversAnotherSizeIsRefused) {
  auto out = ArchiveOutput::Create(dir_ / "bad");
  ASSERT_TRUE(out.has_value());
  auto archive = MakeArchiveWriter(GetParam(), **out, 0);
  auto short_fill = archive->Add("x", 10, [](const ChunkSink& sink) { return sink("12345"); });
  ASSERT_FALSE(short_fill.has_value());
  EXPECT_EQ(short_fill.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(short_fill.error().message.find("5 bytes delivered, 10 announced"), std::string::npos);
  auto long_fill = archive->Add("y", 2, [](const ChunkSink& sink) { return sink("12345"); });
  ASSERT_FALSE(long_fill.has_value());
  EXPECT_NE(long_fill.error().message.find("more bytes than the 2 announced"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(TarAndZip, ArchiveTest, ::testing::Values(ArchiveKind::kTar, ArchiveKind::kZip),
                         [](const auto& info) { return info.param == ArchiveKind::kZip ? "zip" : "tar"; });

TEST(Zip64, MoreThan65535EntriesStillListAndTest) {
  const fs::path dir = fs::temp_directory_path() / ("furrsight-zip64-" + base::NewUuid());
  fs::create_directories(dir);
  const fs::path file = dir / "many.zip";
  auto out = ArchiveOutput::Create(file);
  ASSERT_TRUE(out.has_value());
  auto archive = MakeArchiveWriter(ArchiveKind::kZip, **out, 1'765'000'000);
  constexpr int kEntries = 70'000;
  for (int i = 0; i < kEntries; ++i) ASSERT_TRUE(archive->AddBytes("e/" + std::to_string(i), std::to_string(i)));
  ASSERT_TRUE(archive->Finish());
  ASSERT_TRUE((*out)->Close());
  const ShellRun list = Shell("unzip -l " + file.string() + " | tail -1");
  EXPECT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("70000 files"), std::string::npos) << list.out;
  const ShellRun one = Shell("unzip -p " + file.string() + " e/69999");
  EXPECT_EQ(one.out, "69999");
  fs::remove_all(dir);
}

// --- splits ---

ExportPair Pair(const std::string& id, const std::string& before, const std::string& after,
                std::optional<std::uint64_t> before_hash, std::optional<std::uint64_t> after_hash) {
  ExportPair p;
  p.state.id = id;
  p.before.sha256 = before;
  p.after.sha256 = after;
  p.before.phash = before_hash;
  p.after.phash = after_hash;
  return p;
}

std::string Id(int i) { return fmt::format("{:08d}-0000-4000-8000-000000000000", i); }

TEST(Splits, NearDuplicatesAndSharedImagesStayInOneSplit) {
  std::vector<ExportPair> pairs;
  std::mt19937_64 rng(3);
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 600; ++i) {
    std::uint64_t b = rng(), a = rng();
    std::string before = "b" + std::to_string(i);
    if (i % 10 == 9) b = hashes[static_cast<std::size_t>(2 * (i - 5))] ^ 0b101;   // 2 bits from pair i-5's before
    if (i % 10 == 3) before = pairs[static_cast<std::size_t>(i - 2)].after.sha256;  // the same image as pair i-2's after
    hashes.push_back(b);
    hashes.push_back(a);
    pairs.push_back(Pair(Id(i), before, "a" + std::to_string(i), b, a));
  }
  const std::size_t groups = AssignSplits(pairs, {});
  EXPECT_EQ(groups, 600u - 60u - 60u);
  for (int i = 0; i < 600; ++i) {
    if (i % 10 == 9) {
      EXPECT_EQ(pairs[i].split, pairs[i - 5].split) << i;
    }
    if (i % 10 == 3) {
      EXPECT_EQ(pairs[i].split, pairs[i - 2].split) << i;
    }
  }
  // A distance above the threshold does not join.
  std::vector<ExportPair> far = {Pair(Id(1), "x", "y", 0, ~0ULL), Pair(Id(2), "z", "w", 0x7f, 0x0fff0fff0fff0fffULL)};
  EXPECT_EQ(AssignSplits(far, {.near_duplicate_distance = 6}), 2u);
  EXPECT_EQ(AssignSplits(far, {.near_duplicate_distance = 7}), 1u);
}

// The banded search (multi-index hashing) finds exactly the groups an
// all-pairs comparison finds, for every threshold.
TEST(Splits, BandedSearchAgreesWithComparingEveryPair) {
  std::mt19937_64 rng(17);
  std::vector<ExportPair> pairs;
  std::vector<std::uint64_t> hashes;
  for (int i = 0; i < 800; ++i) {
    std::uint64_t h = rng();
    if (i > 0 && rng() % 3 == 0) {  // near some earlier hash: flip 0-12 random bits
      h = hashes[rng() % hashes.size()];
      for (int flips = static_cast<int>(rng() % 13); flips > 0; --flips) h ^= 1ULL << (rng() % 64);
    }
    hashes.push_back(h);
    pairs.push_back(Pair(Id(i), "b" + std::to_string(i), "a" + std::to_string(i), h, {}));
  }
  for (int d : {0, 1, 3, 6, 9, 15, 16, 20}) {
    std::vector<int> parent(pairs.size());
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    for (std::size_t a = 0; a < hashes.size(); ++a)
      for (std::size_t b = a + 1; b < hashes.size(); ++b)
        if (std::popcount(hashes[a] ^ hashes[b]) <= d) parent[find(static_cast<int>(a))] = find(static_cast<int>(b));
    std::set<int> roots;
    for (std::size_t i = 0; i < pairs.size(); ++i) roots.insert(find(static_cast<int>(i)));
    auto copy = pairs;
    EXPECT_EQ(AssignSplits(copy, {.near_duplicate_distance = d}), roots.size()) << "distance " << d;
  }
}

TEST(Splits, DeterministicFromTheSeedAndNearTheRatios) {
  std::vector<ExportPair> pairs;
  for (int i = 0; i < 4000; ++i) pairs.push_back(Pair(Id(i), "b" + std::to_string(i), "a" + std::to_string(i), {}, {}));
  auto again = pairs, other = pairs;
  AssignSplits(pairs, {.seed = "s1"});
  AssignSplits(again, {.seed = "s1"});
  AssignSplits(other, {.seed = "s2"});
  std::map<std::string, int> count;
  int differ = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(pairs[i].split, again[i].split);
    differ += pairs[i].split != other[i].split;
    ++count[pairs[i].split];
  }
  EXPECT_GT(differ, 400) << "another seed gives other splits";
  EXPECT_NEAR(count["train"], 3200, 150);
  EXPECT_NEAR(count["validation"], 400, 90);
  EXPECT_NEAR(count["test"], 400, 90);
}

TEST(Splits, ASplitWithFractionZeroGetsNoPair) {
  std::vector<ExportPair> pairs;
  for (int i = 0; i < 2000; ++i) pairs.push_back(Pair(Id(i), "b" + std::to_string(i), "a" + std::to_string(i), {}, {}));
  for (auto [train, validation, test] : {std::tuple{1.0, 0.0, 0.0}, {0.5, 0.5, 0.0}, {0.0, 0.0, 1.0}, {0.7, 0.0, 0.3}}) {
    auto copy = pairs;
    AssignSplits(copy, {.train = train, .validation = validation, .test = test});
    std::map<std::string, int> count;
    for (const auto& p : copy) ++count[p.split];
    EXPECT_EQ(count["train"] > 0, train > 0) << train << "/" << validation << "/" << test;
    EXPECT_EQ(count["validation"] > 0, validation > 0) << train << "/" << validation << "/" << test;
    EXPECT_EQ(count["test"] > 0, test > 0) << train << "/" << validation << "/" << test;
  }
}

TEST(Splits, OptionsAreCheckedWithTheFieldNamed) {
  auto parse = [](std::string_view text) {
    const json::value v = json::parse(text);
    return orchestrator::jobs::ParseSplitOptions(&v.as_object());
  };
  EXPECT_TRUE(parse(R"({"train":0.7,"validation":0.2,"test":0.1,"seed":42})").has_value());
  EXPECT_NE(parse(R"({"train":0.7,"validation":0.2,"test":0.2})").error().message.find("must be 1"), std::string::npos);
  EXPECT_NE(parse(R"({"train":-1})").error().message.find("splits.train"), std::string::npos);
  EXPECT_NE(parse(R"({"folds":3})").error().message.find("splits.folds is not a split option"), std::string::npos);
}

TEST(Filters, AreCheckedWithTheFieldNamed) {
  auto parse = [](std::string_view text) {
    const json::value v = json::parse(text);
    return orchestrator::jobs::ParseFilters(&v.as_object());
  };
  auto ok = parse(R"({"status":["verified","rejected"],"breeds":"Poodle","from":"2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->statuses, (std::vector<std::string>{"VERIFIED", "REJECTED"}));
  EXPECT_EQ(ok->breeds, (std::vector<std::string>{"Poodle"}));
  EXPECT_EQ(*ok->from_us, 1'767'225'600'000'000LL);
  EXPECT_EQ(orchestrator::jobs::ParseFilters(nullptr)->statuses, (std::vector<std::string>{"VERIFIED"})) << "verified pairs by default";
  EXPECT_NE(parse(R"({"status":"maybe"})").error().message.find("filters.status 'MAYBE'"), std::string::npos);
  EXPECT_NE(parse(R"({"from":"yesterday"})").error().message.find("filters.from must be a time"), std::string::npos);
  EXPECT_NE(parse(R"({"colour":"red"})").error().message.find("filters.colour is not a filter"), std::string::npos);
  EXPECT_NE(parse(R"({"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"})").error().message.find("before"),
            std::string::npos);
}

}  // namespace
}  // namespace furrsight::workers::exporting
