// Rebuild throughput of the FurrSight read models from a generated log,
// against bulk-loading the same final rows with COPY on the same database in
// the same run; and live latency from append to row visible.
//
//   build/bin/furrsight services run --log-level warn -- build/bin/rebuild_bench
//   FURRSIGHT_BENCH_EVENTS=100000 ... for a quick run (default 1,000,000)
#include <libpq-fe.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "events/redis/redis_notifier.hpp"
#include "events/redis/redis_waker.hpp"
#include "events/store/subscription.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long EnvLong(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

void Check(PGconn* c, PGresult* r, ExecStatusType want, const std::string& what) {
  if (PQresultStatus(r) != want) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), PQerrorMessage(c));
    std::exit(1);
  }
  PQclear(r);
}

// COPY every table of `from` out, then (timed) into the same tables of `to`.
double CopySeconds(const std::string& url, const std::vector<std::string>& tables, const std::string& from,
                   const std::string& to) {
  PGconn* c = PQconnectdb(url.c_str());
  std::map<std::string, std::string> data;
  for (const auto& t : tables) {
    Check(c, PQexec(c, fmt::format("COPY {}.{} TO STDOUT", from, t).c_str()), PGRES_COPY_OUT, "copy out");
    char* buf = nullptr;
    int n;
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
      data[t].append(buf, n);
      PQfreemem(buf);
    }
    Check(c, PQgetResult(c), PGRES_COMMAND_OK, "copy out end");
  }
  auto start = Clock::now();
  Check(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
  for (const auto& t : tables) {
    Check(c, PQexec(c, fmt::format("COPY {}.{} FROM STDIN", to, t).c_str()), PGRES_COPY_IN, "copy in");
    PQputCopyData(c, data[t].data(), static_cast<int>(data[t].size()));
    PQputCopyEnd(c, nullptr);
    Check(c, PQgetResult(c), PGRES_COMMAND_OK, "copy in end");
  }
  Check(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
  double secs = Since(start);
  PQfinish(c);
  return secs;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void LiveLatency(testing::TestDatabase& db, events::PgPool& pool, projections::FurrSightProjection& projection) {
  auto address = *events::ParseRedisUrl(db.RedisUrl());
  events::RedisNotifier notifier(address, db.ChannelPrefix());
  events::EventStore store(pool, &notifier);
  events::RedisWaker waker(address, events::ChannelsFor(db.ChannelPrefix(), projection.filter()));
  std::atomic<bool> stop{false};
  std::thread runner([&] {
    projections::Projector projector(db.AdminUrl(), store, &waker, projection, {.poll_interval = std::chrono::milliseconds(250)});
    (void)projector.Run(stop);
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));  // active and caught up

  std::mutex mu;
  std::map<std::string, Clock::time_point> pending;  // guarded by mu
  std::vector<double> latencies_ms;
  std::atomic<bool> writing{true};
  std::thread watcher([&] {
    pqxx::connection conn(db.ServiceUrl());
    while (writing || !pending.empty()) {
      std::string ids;
      {
        std::lock_guard lock(mu);
        for (const auto& [id, t] : pending) ids += (ids.empty() ? "" : ",") + id;
      }
      if (!ids.empty()) {
        pqxx::nontransaction tx(conn);
        auto rows = tx.exec_params("SELECT id::text FROM grooming_pairs WHERE id = ANY(string_to_array($1, ',')::uuid[])", ids);
        auto now = Clock::now();
        std::lock_guard lock(mu);
        for (const auto& r : rows) {
          auto it = pending.find(r[0].c_str());
          if (it == pending.end()) continue;
          latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
          pending.erase(it);
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  constexpr int kPerSecond = 200, kSeconds = 5;
  auto next = Clock::now();
  for (int i = 0; i < kPerSecond * kSeconds; ++i) {
    next += std::chrono::microseconds(1'000'000 / kPerSecond);
    std::this_thread::sleep_until(next);
    std::string id = base::NewUuid();
    events::NewEvent e;
    e.event_id = base::NewUuid();
    e.stream_id = "pair-" + id;
    e.type = "PairProposed";
    e.payload_json = R"({"before_image_url":"blob://b","after_image_url":"blob://a","cue":"alt_text"})";
    e.metadata = {"worker:bench", e.event_id, e.event_id, "bench"};
    {
      std::lock_guard lock(mu);
      pending[id] = Clock::now();
    }
    if (!store.Append(e.stream_id, events::ExpectedVersion::NoStream(), std::vector{e})) std::exit(1);
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (pending.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writing = false;
  {
    std::lock_guard lock(mu);
    pending.clear();
  }
  watcher.join();
  stop = true;
  runner.join();
  fmt::print("live latency, append -> row visible in grooming_pairs ({} events at {}/s, Redis wake-ups):\n"
             "  p50 {:.1f} ms   p99 {:.1f} ms   max {:.1f} ms\n",
             latencies_ms.size(), kPerSecond, Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99),
             Percentile(latencies_ms, 1.0));
}

int Main() {
  const long events_wanted = EnvLong("FURRSIGHT_BENCH_EVENTS", 1'000'000);
  auto db = testing::TestDatabase::Create("rebuild_bench");
  events::PgPool pool(db->ServiceUrl(), 8, events::EventStore::PrepareStatements);
  events::EventStore store(pool);
  projections::FurrSightProjection projection;

  auto t0 = Clock::now();
  auto appended = testing::GenerateHistory(store, {.events = events_wanted, .seed = 1, .batch = 1000});
  fmt::print("generated {} events in {:.1f} s ({:.0f} events/s appended in batches of 1000)\n", appended, Since(t0),
             appended / Since(t0));

  pqxx::connection conn(db->AdminUrl());
  {
    pqxx::nontransaction tx(conn);
    tx.exec("VACUUM ANALYZE events");
  }
  // Where the time goes: reading the log alone, in the projector's batches.
  {
    auto t = Clock::now();
    events::LogPosition at;
    long long n = 0;
    for (;;) {
      auto batch = store.ReadAll(at, projection.filter(), 1000);
      if (!batch || batch->empty()) break;
      n += static_cast<long long>(batch->size());
      at = batch->back().position;
    }
    fmt::print("reading the log alone: {} events in {:.2f} s = {:.0f} events/s\n", n, Since(t), n / Since(t));
  }
  auto generation = projections::CreateGeneration(conn, projection);
  projections::Projector projector(db->AdminUrl(), store, nullptr, projection, {.batch_size = 1000});
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu_before = cpu();
  auto t1 = Clock::now();
  auto applied = projector.CatchUp(generation->generation);
  double rebuild_s = Since(t1);
  const double client_cpu = cpu() - cpu_before;
  if (!applied) {
    std::fprintf(stderr, "rebuild failed: %s\n", applied.error().message.c_str());
    return 1;
  }
  auto empty = projections::CreateGeneration(conn, projection);
  double copy_s = CopySeconds(db->AdminUrl(), projection.tables(), generation->schema, empty->schema);
  long long rows = 0;
  {
    pqxx::nontransaction tx(conn);
    for (const auto& t : projection.tables())
      rows += tx.exec(fmt::format("SELECT count(*) FROM {}.{}", generation->schema, t))[0][0].as<long long>();
  }
  fmt::print("rebuild of the FurrSight read models: {} events -> {} rows in {:.2f} s = {:.0f} events/s\n", *applied,
             rows, rebuild_s, *applied / rebuild_s);
  fmt::print("  of which CPU in this process (reading, planning, sending): {:.2f} s; the rest is PostgreSQL\n",
             client_cpu);
  fmt::print("baseline, COPY of the same {} final rows:           {:.2f} s = {:.0f} rows/s ({:.0f} events/s equivalent)\n",
             rows, copy_s, rows / copy_s, *applied / copy_s);
  fmt::print("ratio rebuild / COPY (events/s over equivalent events/s): {:.3f}\n", copy_s / rebuild_s);

  if (auto ok = projections::Switch(conn, projection, generation->generation); !ok) {
    std::fprintf(stderr, "switch failed: %s\n", ok.error().message.c_str());
    return 1;
  }
  LiveLatency(*db, pool, projection);
  return 0;
}

}  // namespace
}  // namespace furrsight

int main() { return furrsight::Main(); }
