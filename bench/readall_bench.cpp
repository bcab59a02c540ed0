// readall_bench: catch-up read throughput of EventStore::ReadAll against
// plain scans of the same rows, on the same database, in the same run
// (docs/benchmarks.md).
//
// Loads FURRSIGHT_BENCH_EVENTS events (default 1,000,000; 500 streams,
// ~200-byte payloads, 1,000 events per transaction) with INSERT ... SELECT
// generate_series, VACUUM ANALYZEs, then reads the whole log in batches of
// 1,000, parsing every row into a RecordedEvent the same way, through:
//   store:  EventStore::ReadAll (gap-free: (tx_id, global_position) order,
//           below the oldest running transaction);
//   keyset: SELECT <the same columns> FROM events WHERE global_position > $1
//           ORDER BY global_position LIMIT 1000;
//   cursor: one DECLARE CURSOR ... ORDER BY global_position, FETCH 1000;
// and, for keyset and store, the time of one more read at the end that finds nothing:
// what a subscriber that has caught up pays per poll or wake-up.
//
// Run under the test harness: build/bin/furrsight services run -- build/bin/readall_bench
#include <cstdio>
#include <functional>
#include <string>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/store/event_store.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::bench {
namespace {

constexpr int kBatch = 1000;

struct Read {
  long events = 0;
  long bytes = 0;  // payload bytes seen, so nothing is optimised away
  double seconds = 0;
  double empty_poll_ms = -1;  // one more read at the end, finding nothing (what a live subscriber pays)
};

// A reader: the next batch after a position.
using Fetch = std::function<std::vector<events::RecordedEvent>(const events::LogPosition&)>;

Read ReadAllWith(const Fetch& fetch) {
  Read r;
  const auto start = Clock::now();
  events::LogPosition after;
  for (;;) {
    auto batch = fetch(after);
    if (batch.empty()) break;
    for (const auto& e : batch) {
      ++r.events;
      r.bytes += static_cast<long>(e.payload_json.size());
    }
    after = batch.back().position;
  }
  r.seconds = SecondsSince(start);
  const auto poll = Clock::now();
  constexpr int kPolls = 3;
  for (int i = 0; i < kPolls; ++i) fetch(after);
  r.empty_poll_ms = SecondsSince(poll) * 1000 / kPolls;
  return r;
}

std::vector<events::RecordedEvent> Parse(const pqxx::result& rows) {
  std::vector<events::RecordedEvent> batch;
  batch.reserve(rows.size());
  for (const auto& row : rows) batch.push_back(events::ParseEventRow(row));
  return batch;
}

Read ReadStore(const testing::TestDatabase& db) {
  events::PgPool pool(db.ServiceUrl(), 1, events::EventStore::PrepareStatements);
  events::EventStore store(pool);
  if (auto head = store.Head(); !head) throw std::runtime_error(head.error().message);  // connect untimed
  return ReadAllWith([&](const events::LogPosition& after) {
    auto batch = store.ReadAll(after, {}, kBatch);
    if (!batch) throw std::runtime_error(batch.error().message);
    return std::move(*batch);
  });
}

Read ReadKeyset(const testing::TestDatabase& db) {
  pqxx::connection conn(db.ServiceUrl());
  conn.prepare("keyset", fmt::format("SELECT {} FROM events WHERE global_position > $1 "
                                     "ORDER BY global_position LIMIT $2",
                                     events::kEventColumns));
  return ReadAllWith([&](const events::LogPosition& after) {
    pqxx::nontransaction tx(conn);
    return Parse(tx.exec_prepared("keyset", after.global_position, kBatch));
  });
}

Read ReadCursor(const testing::TestDatabase& db) {
  pqxx::connection conn(db.ServiceUrl());
  Read r;
  const auto start = Clock::now();
  pqxx::read_transaction tx(conn);
  tx.exec0(fmt::format("DECLARE c NO SCROLL CURSOR FOR SELECT {} FROM events ORDER BY global_position",
                       events::kEventColumns));
  for (;;) {
    auto batch = Parse(tx.exec(fmt::format("FETCH {} FROM c", kBatch)));
    if (batch.empty()) break;
    for (const auto& e : batch) {
      ++r.events;
      r.bytes += static_cast<long>(e.payload_json.size());
    }
  }
  tx.commit();
  r.seconds = SecondsSince(start);
  return r;
}

int Main() {
  const long n = EnvLong("FURRSIGHT_BENCH_EVENTS", 1000000);
  auto db = testing::TestDatabase::Create("readall_bench");
  {
    pqxx::connection conn(db->AdminUrl());
    pqxx::nontransaction tx(conn);
    auto start = Clock::now();
    tx.exec0(BulkLoadSql(n));
    const double load = SecondsSince(start);
    start = Clock::now();
    tx.exec0("VACUUM (ANALYZE) events");
    auto size = tx.exec1("SELECT pg_size_pretty(pg_total_relation_size('events'))")[0].as<std::string>();
    tx.exec1("SELECT count(*) FROM events");  // warm the cache for whichever reads first
    auto tx_ids = tx.exec1("SELECT min(tx_id)::text || '..' || max(tx_id)::text FROM events")[0].as<std::string>();
    fmt::print("readall_bench: {} events (transaction ids {}) loaded in {:.1f} s, vacuum {:.1f} s, table with "
               "indexes {}, database {}\n",
               n, tx_ids, load, SecondsSince(start), size, db->name());
  }
  fmt::print("{:>8} | {:>10} {:>8} {:>11} {:>10} | {:>13}\n", "reader", "events", "seconds", "events/s", "vs keyset",
             "empty poll ms");
  const Read keyset = ReadKeyset(*db);
  const Read cursor = ReadCursor(*db);
  const Read store = ReadStore(*db);
  const double base = static_cast<double>(keyset.events) / keyset.seconds;
  for (const auto& [name, r] : {std::pair{"keyset", keyset}, {"cursor", cursor}, {"store", store}}) {
    const double rate = static_cast<double>(r.events) / r.seconds;
    fmt::print("{:>8} | {:>10} {:>8.2f} {:>11.0f} {:>10.2f} | {:>13}{}\n", name, r.events, r.seconds, rate,
               rate / base, r.empty_poll_ms < 0 ? std::string("-") : fmt::format("{:.2f}", r.empty_poll_ms),
               r.events == n ? "" : fmt::format("  <- read {} of {} events", r.events, n));
  }
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("readall_bench", furrsight::bench::Main); }
