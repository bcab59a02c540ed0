// append_bench: EventStore::Append throughput against a raw INSERT baseline
// on the same database, in the same run (docs/benchmarks.md).
//
// For 1 and 8 writer threads and 1 and 100 events per append, each path for
// FURRSIGHT_BENCH_SECONDS (default 4) in all, in alternating halves
// (raw, store, store, raw):
//   store: EventStore::Append, ExpectedVersion::Any, as the service role;
//   raw:   one INSERT ... SELECT FROM jsonb_array_elements($1) of the same
//          rows into events_raw, a copy of `events` (same columns, defaults,
//          constraints and indexes) with the versions handed out in-process,
//          so the database checks nothing but the constraints.
// Events go to 500 streams "pair-NNNNN": a batch goes to one random stream,
// or (rows marked "spread") each event of it to a random stream.
//
// Both tables first get FURRSIGHT_BENCH_PRELOAD events (default 100,000),
// then VACUUM ANALYZE.
// FURRSIGHT_BENCH_ONLY=8x1 (or 1x100, 8x100-spread, ...) runs one row only.
//
// Run under the test harness: build/bin/furrsight services run -- build/bin/append_bench
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/store/event_store.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::bench {
namespace {

constexpr int kStreams = 500;

struct Config {
  int writers;
  int batch;    // events per append
  bool spread;  // each event of a batch to its own random stream
};

struct Outcome {
  long events = 0;
  double seconds = 0;
  double client_cpu = 0;  // seconds of this process's CPU
  double server_cpu = 0;  // seconds of the writers' PostgreSQL backends' CPU
  long failed = 0;        // appends that returned an error
  std::string first_error;

  void Add(const Outcome& o) {
    events += o.events;
    seconds += o.seconds;
    client_cpu += o.client_cpu;
    server_cpu += o.server_cpu;
    failed += o.failed;
    if (first_error.empty()) first_error = o.first_error;
  }
  double EventsPerSecond() const { return static_cast<double>(events) / seconds; }
  std::string CpuPerEvent() const {  // "client/server" microseconds per event
    const double n = std::max(1.0, static_cast<double>(events));
    return fmt::format("{:>7.1f}/{:<7.1f}", client_cpu * 1e6 / n, server_cpu * 1e6 / n);
  }
};

// A batch of events for one append.
std::vector<events::NewEvent> MakeBatch(const Config& c, std::mt19937_64& rng) {
  std::vector<events::NewEvent> batch;
  batch.reserve(c.batch);
  std::string stream = StreamName(static_cast<int>(rng() % kStreams));
  for (int i = 0; i < c.batch; ++i) {
    if (c.spread) stream = StreamName(static_cast<int>(rng() % kStreams));
    batch.push_back(MakeEvent(stream, rng));
  }
  return batch;
}

// Runs `append(thread, rng)` (returns events written, or -1 on failure with
// *error set) on c.writers threads for `seconds`.
Outcome RunWriters(const Config& c, double seconds, const std::vector<int>& backend_pids,
                   const std::function<long(int, std::mt19937_64&, std::string&)>& append) {
  std::atomic<long> events{0}, failed{0};
  std::atomic<bool> go{false};
  std::string first_error;
  std::mutex error_mu;
  const double cpu0 = ProcessCpuSeconds(), server0 = ProcessesCpuSeconds(backend_pids);
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (int t = 0; t < c.writers; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      while (!go.load()) std::this_thread::yield();
      const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
      long mine = 0;
      while (Clock::now() < deadline) {
        std::string error;
        long n = append(t, rng, error);
        if (n >= 0) {
          mine += n;
          continue;
        }
        ++failed;
        std::lock_guard lock(error_mu);
        if (first_error.empty()) first_error = error;
      }
      events += mine;
    });
  }
  start = Clock::now();
  go = true;
  for (auto& th : threads) th.join();
  Outcome o;
  o.seconds = SecondsSince(start);
  o.events = events.load();
  o.client_cpu = ProcessCpuSeconds() - cpu0;
  o.server_cpu = ProcessesCpuSeconds(backend_pids) - server0;
  o.failed = failed.load();
  o.first_error = first_error;
  return o;
}

// The baseline's statement: the same JSON parameter, no version logic, no RETURNING.
constexpr const char* kRawInsert = R"~(
INSERT INTO events_raw (event_id, stream_id, stream_version, event_type, schema_version, payload, metadata)
SELECT (v->>'event_id')::uuid, v->>'stream_id', (v->>'stream_version')::bigint, v->>'event_type',
       (v->>'schema_version')::int, v->'payload', v->'metadata'
FROM jsonb_array_elements($1::jsonb) AS t(v))~";

std::string RawJson(const std::vector<events::NewEvent>& batch, std::vector<std::atomic<long>>& versions) {
  std::string json = "[";
  for (const auto& e : batch) {
    if (json.size() > 1) json += ',';
    long version = ++versions[static_cast<size_t>(std::stoi(e.stream_id.substr(5)))];
    json += fmt::format(
        R"({{"event_id":"{}","stream_id":"{}","stream_version":{},"event_type":"{}","schema_version":{},)"
        R"("payload":{},"metadata":{{"actor":"{}","correlation_id":"{}","causation_id":"{}","source":"{}"}}}})",
        e.event_id, e.stream_id, version, e.type, e.schema_version, e.payload_json, e.metadata.actor,
        e.metadata.correlation_id, e.metadata.causation_id, e.metadata.source);
  }
  return json + "]";
}

Outcome RunRaw(const testing::TestDatabase& db, const Config& c, double seconds,
               std::vector<std::atomic<long>>& versions) {
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  std::vector<int> pids;
  for (int t = 0; t < c.writers; ++t) {
    conns.push_back(std::make_unique<pqxx::connection>(db.ServiceUrl()));
    conns.back()->prepare("raw_insert", kRawInsert);
    pids.push_back(conns.back()->backendpid());
  }
  return RunWriters(c, seconds, pids, [&](int t, std::mt19937_64& rng, std::string& error) -> long {
    auto batch = MakeBatch(c, rng);
    try {
      pqxx::nontransaction tx(*conns[static_cast<size_t>(t)]);
      tx.exec_prepared0("raw_insert", RawJson(batch, versions));
      return c.batch;
    } catch (const std::exception& e) {
      error = e.what();
      return -1;
    }
  });
}

Outcome RunStore(const testing::TestDatabase& db, const Config& c, double seconds) {
  events::PgPool pool(db.ServiceUrl(), static_cast<size_t>(c.writers), events::EventStore::PrepareStatements);
  events::EventStore store(pool);
  std::vector<int> pids;
  {
    // Open every connection now (not in the timed part) and note its backend.
    std::vector<events::PgPool::Lease> leases;
    for (int t = 0; t < c.writers; ++t) {
      auto lease = pool.Acquire();
      if (!lease) throw std::runtime_error(lease.error().message);
      pids.push_back((*lease)->backendpid());
      leases.push_back(std::move(*lease));
    }
  }
  return RunWriters(c, seconds, pids, [&](int, std::mt19937_64& rng, std::string& error) -> long {
    auto batch = MakeBatch(c, rng);
    auto r = store.Append(std::span<const events::StreamExpectation>(), batch);
    if (r) return c.batch;
    error = r.error().message;
    return -1;
  });
}

long Count(const testing::TestDatabase& db, const char* table) {
  pqxx::connection conn(db.AdminUrl());
  pqxx::nontransaction tx(conn);
  return tx.exec1(fmt::format("SELECT count(*) FROM {}", table))[0].as<long>();
}

int Main() {
  const double seconds = static_cast<double>(EnvLong("FURRSIGHT_BENCH_SECONDS", 4));
  const long preload = EnvLong("FURRSIGHT_BENCH_PRELOAD", 100000);
  auto db = testing::TestDatabase::Create("append_bench");
  std::vector<std::atomic<long>> versions(kStreams);  // the raw path's stream versions
  {
    pqxx::connection conn(db->AdminUrl());
    pqxx::nontransaction tx(conn);
    // Same columns (identity, generated, defaults), CHECKs and indexes; no trigger.
    tx.exec0("CREATE TABLE events_raw (LIKE events INCLUDING ALL)");
    tx.exec0("GRANT SELECT, INSERT ON events_raw TO furrsight_app");
    // A log that already holds events, analysed, as in service: the plans
    // PostgreSQL picks for an empty table are not the ones it keeps.
    if (preload > 0) {
      tx.exec0(BulkLoadSql(preload));
      tx.exec0(R"(INSERT INTO events_raw (event_id, stream_id, stream_version, event_type, schema_version, payload,
                   metadata) SELECT event_id, stream_id, stream_version, event_type, schema_version, payload, metadata
                   FROM events ORDER BY global_position)");
      for (const auto& row : tx.exec("SELECT stream_id, max(stream_version) FROM events_raw GROUP BY stream_id"))
        versions[static_cast<size_t>(std::stoi(row[0].as<std::string>().substr(5)))] = row[1].as<long>();
    }
    tx.exec0("VACUUM (ANALYZE) events");
    tx.exec0("VACUUM (ANALYZE) events_raw");
  }

  fmt::print("append_bench: {} s per path and row, {} streams, payload ~{} bytes, {} events preloaded, database {}\n",
             seconds, kStreams, [] { std::mt19937_64 r(1); return Payload(r).size(); }(), preload, db->name());
  fmt::print("{:>7} {:>6} {:>8} | {:>11} {:>11} {:>6} | {:>15} {:>15} | {}\n", "writers", "batch", "streams",
             "store ev/s", "raw ev/s", "ratio", "store cpu us/ev", "raw cpu us/ev", "failed store/raw");
  fmt::print("{:>7} {:>6} {:>8} | {:>11} {:>11} {:>6} | {:>15} {:>15} |\n", "", "", "", "", "", "",
             "client/server", "client/server");
  const std::vector<Config> configs = {{1, 1, false},   {8, 1, false},  {1, 100, false},
                                       {8, 100, false}, {1, 100, true}, {8, 100, true}};
  const std::string only = std::getenv("FURRSIGHT_BENCH_ONLY") != nullptr ? std::getenv("FURRSIGHT_BENCH_ONLY") : "";
  for (const Config& c : configs) {
    if (!only.empty() && only != fmt::format("{}x{}{}", c.writers, c.batch, c.spread ? "-spread" : "")) continue;
    // Alternating halves (raw, store, store, raw) so a drift of the machine hits both alike.
    Outcome raw, store;
    for (int half = 0; half < 2; ++half) {
      if (half == 0) raw.Add(RunRaw(*db, c, seconds / 2, versions));
      store.Add(RunStore(*db, c, seconds / 2));
      if (half == 1) raw.Add(RunRaw(*db, c, seconds / 2, versions));
    }
    fmt::print("{:>7} {:>6} {:>8} | {:>11.0f} {:>11.0f} {:>6.2f} | {} {} | {}/{}{}{}\n", c.writers, c.batch,
               c.spread ? "spread" : "one", store.EventsPerSecond(), raw.EventsPerSecond(),
               store.EventsPerSecond() / raw.EventsPerSecond(), store.CpuPerEvent(), raw.CpuPerEvent(), store.failed,
               raw.failed, store.first_error.empty() ? "" : " store: " + store.first_error.substr(0, 200),
               raw.first_error.empty() ? "" : " raw: " + raw.first_error.substr(0, 200));
    std::fflush(stdout);
  }
  fmt::print("rows written: events {}, events_raw {}\n", Count(*db, "events"), Count(*db, "events_raw"));
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("append_bench", furrsight::bench::Main); }
