// Pair reads from the grooming_pairs read model: the filtered, keyset-paged
// list the curation queue and researchers browse. (One pair, its history and
// its state as of a past moment come from its stream instead: see
// curation::CurationService::Load — read-your-writes after a command.)
//
// Keyset pagination: a page ends with `next_cursor` ("<created_at µs>_<id>")
// when more rows follow; passing it back continues after the last row, so a
// page is never skipped or repeated while pairs are added. Stateless and
// thread-safe (connections come from the pool).
#pragma once

#include <optional>
#include <string>

#include <boost/json/array.hpp>

#include "events/base/error.hpp"
#include "events/store/pg_pool.hpp"

namespace furrsight::orchestrator::queries {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 200;

struct PairFilter {
  std::string status;         // UNVERIFIED | VERIFIED | REJECTED; "" any
  std::string breed;          // a breed's name or slug; "" any
  std::string service;        // a service's name or slug; "" any
  std::string source_domain;  // host of the page the pair came from (subdomains too); "" any
  std::optional<bool> analysed;
  std::optional<double> min_confidence, max_confidence;
  std::string text;           // in the researchers' notes or the model's notes, case-insensitive
  int limit = kDefaultPageSize;
  std::string cursor;         // from the previous page; "" the first page
  bool oldest_first = false;  // default newest first
};

// kInvalidArgument naming the field (bad status, cursor, limit, confidence).
base::Result<void> Validate(const PairFilter& filter);

struct PairPage {
  boost::json::array items;  // see docs/api.md for the item shape
  std::string next_cursor;   // "" on the last page
};

base::Result<PairPage> ListPairs(events::PgPool& pool, const PairFilter& filter);

// The statement ListPairs runs, newest or oldest first: $1..$8 the filters
// (text, '' any), $9/$10 the cursor ('' the first page), $11 the page size + 1.
// Public so bench/api_bench can run the very same SQL under pgbench.
std::string ListPairsSql(bool oldest_first);

}  // namespace furrsight::orchestrator::queries
