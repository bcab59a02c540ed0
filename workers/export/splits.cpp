#include "workers/export/splits.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <vector>
#include <unordered_map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/sha256.hpp"

namespace furrsight::workers::exporting {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

struct DisjointSets {
  explicit DisjointSets(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t Find(std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void Join(std::size_t a, std::size_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
  std::vector<std::size_t> parent;
};

// A number in [0, 1) from the seed and a key: the first 8 bytes of SHA-256.
double Unit(const std::string& seed, const std::string& key) {
  const auto d = base::Sha256Of(seed + "\n" + key);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return static_cast<double>(v >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

}  // namespace

std::size_t AssignSplits(std::vector<ExportPair>& pairs, const SplitOptions& options) {
  DisjointSets groups(pairs.size());
  // Pairs sharing an image.
  std::unordered_map<std::string, std::size_t> by_sha;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    for (const auto* img : {&pairs[i].before, &pairs[i].after}) {
      if (img->sha256.empty()) continue;  // no image: nothing to share
      auto [it, fresh] = by_sha.emplace(img->sha256, i);
      if (!fresh) groups.Join(i, it->second);
    }
  // Pairs holding near-duplicate images. Multi-index hashing: cut the 64
  // bits into d + 1 bands; two hashes within distance d agree exactly on at
  // least one band (pigeonhole), so only hashes sharing a band value are
  // compared (10,000 pairs: ~3 million comparisons instead of 2e8).
  std::vector<std::pair<std::uint64_t, std::size_t>> hashes;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    for (const auto* img : {&pairs[i].before, &pairs[i].after})
      if (img->phash) hashes.emplace_back(*img->phash, i);
  const int d = options.near_duplicate_distance;
  auto near = [&](std::size_t a, std::size_t b) {
    if (hashes[a].second != hashes[b].second && std::popcount(hashes[a].first ^ hashes[b].first) <= d)
      groups.Join(hashes[a].second, hashes[b].second);
  };
  if (d >= 16) {  // bands too narrow to help: every hash against every other
    for (std::size_t a = 0; a < hashes.size(); ++a)
      for (std::size_t b = a + 1; b < hashes.size(); ++b) near(a, b);
  } else {
    const int bands = d + 1;
    for (int band = 0, start = 0; band < bands; ++band) {
      const int width = 64 / bands + (band < 64 % bands ? 1 : 0);
      const std::uint64_t mask = width == 64 ? ~0ULL : ((1ULL << width) - 1) << start;
      std::unordered_map<std::uint64_t, std::vector<std::size_t>> buckets;
      for (std::size_t a = 0; a < hashes.size(); ++a) {
        auto& bucket = buckets[hashes[a].first & mask];
        for (std::size_t b : bucket) near(a, b);
        bucket.push_back(a);
      }
      start += width;
    }
  }
  // Pairs are in id order, so a group's root is its smallest pair id.
  std::size_t count = 0;
  std::unordered_map<std::size_t, std::string> split_of;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::size_t root = groups.Find(i);
    auto it = split_of.find(root);
    if (it == split_of.end()) {
      ++count;
      // A point in [0, sum of the fractions); a split whose fraction is 0 never gets one.
      const double u = Unit(options.seed, pairs[root].state.id) * (options.train + options.validation + options.test);
      const char* split = u < options.train || (options.validation == 0 && options.test == 0) ? "train"
                          : u < options.train + options.validation || options.test == 0    ? "validation"
                                                                                           : "test";
      it = split_of.emplace(root, split).first;
    }
    pairs[i].split = it->second;
  }
  return count;
}

}  // namespace furrsight::workers::exporting
