#include "workers/export/splits.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
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

base::Result<SplitOptions> ParseSplitOptions(const json::object* splits) {
  SplitOptions o;
  if (splits == nullptr) return o;
  for (const auto& [key, value] : *splits) {
    if (key == "seed") {
      if (!value.is_string() && !value.is_number())
        return Fail(ErrorCode::kInvalidArgument, "splits.seed must be a string or a number");
      o.seed = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    } else if (key == "near_duplicate_distance") {
      if (!value.is_int64() || value.as_int64() < 0 || value.as_int64() > 32)
        return Fail(ErrorCode::kInvalidArgument, "splits.near_duplicate_distance must be an integer from 0 to 32");
      o.near_duplicate_distance = static_cast<int>(value.as_int64());
    } else if (key == "train" || key == "validation" || key == "test") {
      if (!value.is_number() || value.to_number<double>() < 0 || value.to_number<double>() > 1)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("splits.{} must be a fraction from 0 to 1", std::string_view(key)));
      (key == "train" ? o.train : key == "validation" ? o.validation : o.test) = value.to_number<double>();
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("splits.{} is not a split option (train, validation, test, seed, "
                              "near_duplicate_distance)",
                              std::string_view(key)));
    }
  }
  if (std::abs(o.train + o.validation + o.test - 1.0) > 1e-6)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("splits.train + validation + test must be 1 (they are {} + {} + {})", o.train,
                            o.validation, o.test));
  return o;
}

json::object SplitOptionsJson(const SplitOptions& o) {
  return {{"train", o.train},
          {"validation", o.validation},
          {"test", o.test},
          {"seed", o.seed},
          {"near_duplicate_distance", o.near_duplicate_distance}};
}

std::size_t AssignSplits(std::vector<ExportPair>& pairs, const SplitOptions& options) {
  DisjointSets groups(pairs.size());
  // Pairs sharing an image.
  std::unordered_map<std::string, std::size_t> by_sha;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    for (const auto* img : {&pairs[i].before, &pairs[i].after}) {
      auto [it, fresh] = by_sha.emplace(img->sha256, i);
      if (!fresh) groups.Join(i, it->second);
    }
  // Pairs holding near-duplicate images: every hash against every other
  // (2 x 10,000 pairs: 2e8 XOR + popcount, ~0.2 s).
  std::vector<std::pair<std::uint64_t, std::size_t>> hashes;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    for (const auto* img : {&pairs[i].before, &pairs[i].after})
      if (img->phash) hashes.emplace_back(*img->phash, i);
  for (std::size_t a = 0; a < hashes.size(); ++a)
    for (std::size_t b = a + 1; b < hashes.size(); ++b)
      if (hashes[a].second != hashes[b].second &&
          std::popcount(hashes[a].first ^ hashes[b].first) <= options.near_duplicate_distance)
        groups.Join(hashes[a].second, hashes[b].second);
  // Pairs are in id order, so a group's root is its smallest pair id.
  std::size_t count = 0;
  std::unordered_map<std::size_t, std::string> split_of;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const std::size_t root = groups.Find(i);
    auto it = split_of.find(root);
    if (it == split_of.end()) {
      ++count;
      const double u = Unit(options.seed, pairs[root].state.id);
      it = split_of.emplace(root, u < options.train                        ? "train"
                                  : u < options.train + options.validation ? "validation"
                                                                           : "test")
               .first;
    }
    pairs[i].split = it->second;
  }
  return count;
}

}  // namespace furrsight::workers::exporting
