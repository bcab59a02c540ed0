// latency_bench: append-to-subscriber latency at a steady rate
// (docs/benchmarks.md).
//
// A paced writer appends single events (FURRSIGHT_BENCH_RATE per second,
// default 1,000, for FURRSIGHT_BENCH_SECONDS, default 5) through an
// EventStore with a RedisNotifier, stamping the steady_clock time just before
// Append; a Subscription reading the whole log notes when each event comes
// out of Next(). The log first gets FURRSIGHT_BENCH_PRELOAD events (default
// 100,000). Modes:
//   redis:      the harness's Redis up, the Subscription woken by a RedisWaker;
//   no redis:   a Redis of our own, stopped once the waker has subscribed, so
//               notifier and waker lose it and the Subscription polls,
//               every 500 ms (config poll_interval_ms default), 250 ms
//               (SubscriptionOptions default) and 50 ms.
//
// Run under the test harness: build/bin/furrsight services run -- build/bin/latency_bench
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/base/log.hpp"
#include "events/redis/redis_notifier.hpp"
#include "events/redis/redis_waker.hpp"
#include "events/store/subscription.hpp"
#include "orchestrator/embedded/redis_server.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::bench {
namespace {

struct Mode {
  std::string name;
  std::string redis_url;
  std::chrono::milliseconds poll;
};

void Check(const base::Result<void>& r) {
  if (!r) throw std::runtime_error(r.error().message);
}

template <class T>
T Check(base::Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

// `own_redis`: running at mode.redis_url; stopped once the waker is subscribed.
void Measure(const testing::TestDatabase& db, const Mode& mode, long rate, double seconds,
             orchestrator::RedisServer* own_redis) {
  const auto address = Check(events::ParseRedisUrl(mode.redis_url));
  events::RedisNotifier notifier(address, db.ChannelPrefix());
  events::RedisWaker waker(address, events::ChannelsFor(db.ChannelPrefix(), {}));
  events::PgPool pool(db.ServiceUrl(), 4, events::EventStore::PrepareStatements);
  events::EventStore store(pool, &notifier);

  // The events, made beforehand; their send times are filled in by the writer.
  const auto count = static_cast<size_t>(static_cast<double>(rate) * seconds);
  std::mt19937_64 rng(7);
  std::vector<events::NewEvent> events;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < count; ++i) {
    events.push_back(MakeEvent(StreamName(static_cast<int>(rng() % 500)), rng));
    index[events.back().event_id] = i;
  }
  std::vector<std::atomic<Clock::rep>> sent(count);
  std::vector<double> append_ms(count);  // how long each Append call took (writer thread only)

  // Wait for the waker to subscribe; for the no-Redis modes, then take Redis away.
  auto wait_until = [](auto done) {
    for (auto until = Clock::now() + std::chrono::seconds(10); !done() && Clock::now() < until;)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return done();
  };
  if (!wait_until([&] { return waker.connected(); })) throw std::runtime_error("the waker did not connect to Redis");
  if (own_redis != nullptr) {
    own_redis->Stop();
    if (!wait_until([&] { return !waker.connected(); })) throw std::runtime_error("the waker did not see Redis go");
  }
  events::SubscriptionOptions options;
  options.from = Check(store.Head());
  options.poll_interval = mode.poll;
  events::Subscription subscription(store, &waker, options);

  std::atomic<long> failed{0};
  std::thread writer([&] {
    const auto period = std::chrono::nanoseconds(1000000000L / rate);
    const auto start = Clock::now() + std::chrono::milliseconds(100);
    for (size_t i = 0; i < count; ++i) {
      std::this_thread::sleep_until(start + period * static_cast<long>(i));
      const auto t0 = Clock::now();
      sent[i] = t0.time_since_epoch().count();
      if (!store.Append(events[i].stream_id, events::ExpectedVersion::Any(), std::span(&events[i], 1))) ++failed;
      append_ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
  });

  std::vector<double> latency_ms;
  latency_ms.reserve(count);
  const auto give_up = Clock::now() + std::chrono::duration<double>(seconds) + std::chrono::seconds(10);
  while (latency_ms.size() + static_cast<size_t>(failed.load()) < count && Clock::now() < give_up) {
    auto batch = Check(subscription.Next(std::chrono::milliseconds(1000)));
    const auto now = Clock::now().time_since_epoch().count();
    for (const auto& e : batch) {
      auto it = index.find(e.event_id);
      if (it == index.end()) continue;
      latency_ms.push_back(static_cast<double>(now - sent[it->second].load()) / 1e6);
    }
  }
  writer.join();
  const size_t received = latency_ms.size();
  const double mean =
      received == 0 ? 0 : std::accumulate(latency_ms.begin(), latency_ms.end(), 0.0) / static_cast<double>(received);
  const double p50 = Quantile(latency_ms, 0.50), p99 = Quantile(latency_ms, 0.99);
  const double max = latency_ms.empty() ? 0 : latency_ms.back();
  const double append_p50 = Quantile(append_ms, 0.50), append_p99 = Quantile(append_ms, 0.99);
  fmt::print("{:<24} | {:>6} {:>6} | {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} | {:>6.2f} {:>6.2f} | {:>9} {:>9}\n",
             mode.name, received, failed.load(), p50, p99, max, mean, append_p50, append_p99, notifier.published(),
             waker.messages());
  std::fflush(stdout);
}

int Main() {
  if (std::getenv("FURRSIGHT_LOG_LEVEL") == nullptr) base::log::SetLevel(base::log::Level::kWarn);
  const long rate = EnvLong("FURRSIGHT_BENCH_RATE", 1000);
  const double seconds = static_cast<double>(EnvLong("FURRSIGHT_BENCH_SECONDS", 5));
  const long preload = EnvLong("FURRSIGHT_BENCH_PRELOAD", 100000);
  auto db = testing::TestDatabase::Create("latency_bench");
  {
    // A log that already holds events, analysed, as in service.
    pqxx::connection conn(db->AdminUrl());
    pqxx::nontransaction tx(conn);
    if (preload > 0) tx.exec0(BulkLoadSql(preload));
    tx.exec0("VACUUM (ANALYZE) events");
  }
  fmt::print("latency_bench: {} events/s for {} s per mode, single-event appends, {} events preloaded, database {}\n",
             rate, seconds, preload, db->name());
  fmt::print("{:<24} | {:>6} {:>6} | {:>8} {:>8} {:>8} {:>8} | {:>13} | {:>9} {:>9}\n", "mode", "events", "failed",
             "p50 ms", "p99 ms", "max ms", "mean ms", "Append p50/99", "published", "wake msgs");

  using std::chrono::milliseconds;
  Measure(*db, {"redis, poll 250 ms", db->RedisUrl(), milliseconds(250)}, rate, seconds, nullptr);

  // Our own Redis, so stopping it leaves the harness's alone.
  const auto dir = testing::Services().dir / fmt::format("latency-bench-redis-{}", ::getpid());
  auto redis = Check(orchestrator::RedisServer::Start(dir));
  for (int ms : {500, 250, 50}) {
    if (!redis->running()) Check(redis->Restart());
    Measure(*db, {fmt::format("no redis, poll {} ms", ms), redis->Url(), milliseconds(ms)}, rate, seconds,
            redis.get());
  }
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("latency_bench", furrsight::bench::Main); }
