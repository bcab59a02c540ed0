// A generated history for projection tests and benchmarks: breeds, services,
// pairs through their whole curation life, jobs through theirs, and every
// 40th step an API key issued (every second one revoked) — every event type
// the read models handle — appended in batches, deterministically from a
// seed. With `pixcrawler`, each step also adds a PixCrawler life (users,
// projects, crawl jobs with chunks and images, validation and export jobs),
// acted by "user:<uuid>" actors; without it the pair and job lives are
// exactly what they always were for the same seed.
#pragma once

#include <cstdint>

#include "events/store/event_store.hpp"

namespace furrsight::testing {

struct HistoryOptions {
  std::int64_t events = 10000;  // at least this many
  std::uint32_t seed = 1;
  int batch = 100;              // events per append
  bool pixcrawler = false;      // add the PixCrawler lives (own random stream and ids)
};

// Appends the history; returns how many events were appended.
std::int64_t GenerateHistory(events::EventStore& store, const HistoryOptions& options);

}  // namespace furrsight::testing
