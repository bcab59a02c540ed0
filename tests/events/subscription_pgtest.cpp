// Subscriptions against real PostgreSQL and Redis (invariants 4 and 5):
// every committed event exactly once, each stream in version order, with
// many concurrent writers, rolled-back transactions, and Redis going away.
#include <hiredis/hiredis.h>

#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "events/redis/redis_notifier.hpp"
#include "events/redis/redis_waker.hpp"
#include "events/store/subscription.hpp"
#include "orchestrator/embedded/redis_server.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::events {
namespace {

using testing::TestEvent;
using namespace std::chrono_literals;

// What one subscriber saw.
struct Received {
  std::vector<RecordedEvent> events;
};

// Reads until `expected` events arrived or `limit` passed.
Received Drain(Subscription& sub, size_t expected, std::chrono::seconds limit) {
  Received out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.events.size() < expected && std::chrono::steady_clock::now() < deadline) {
    auto batch = sub.Next(200ms);
    if (!batch) {
      ADD_FAILURE() << batch.error().message;
      break;
    }
    out.events.insert(out.events.end(), batch->begin(), batch->end());
  }
  return out;
}

// `last_version`: each stream's version before the events of `got`.
void ExpectExactlyOnceInStreamOrder(const Received& got, const std::set<std::string>& committed,
                                    std::map<std::string, std::int64_t> last_version = {}) {
  std::set<std::string> seen;
  size_t duplicates = 0, out_of_order = 0, unknown = 0;
  for (const auto& e : got.events) {
    if (!seen.insert(e.event_id).second) {
      ++duplicates;
    }
    if (!committed.contains(e.event_id)) ++unknown;
    auto& v = last_version[e.stream_id];
    if (e.stream_version != v + 1) ++out_of_order;
    v = e.stream_version;
  }
  EXPECT_EQ(duplicates, 0u);
  EXPECT_EQ(out_of_order, 0u) << "a stream was seen out of version order or with a gap";
  EXPECT_EQ(unknown, 0u) << "an event that was never committed was delivered";
  EXPECT_EQ(seen.size(), committed.size()) << "committed events were skipped";
}

class SubscriptionTest : public testing::StoreTest {
 protected:
  std::string Label() const override { return "subscription"; }
  RedisAddress Redis() const { return *ParseRedisUrl(db_->RedisUrl()); }
};

// 8 writers append 20,000 events over 500 streams, holding some transactions
// open for a moment and rolling some back, while 2 subscribers follow.
TEST_F(SubscriptionTest, EveryCommittedEventExactlyOnceInStreamOrderUnderConcurrentWriters) {
  constexpr int kWriters = 8, kStreams = 500, kEventsPerRun = 20000, kRuns = 5;
  RedisNotifier notifier(Redis(), db_->ChannelPrefix());
  EventStore store(*pool_, &notifier);
  RedisWaker waker(Redis(), ChannelsFor(db_->ChannelPrefix(), {}));
  LogPosition start;

  for (int run = 0; run < kRuns; ++run) {
    const auto run_started = std::chrono::steady_clock::now();
    std::map<std::string, std::int64_t> versions_before;
    {
      pqxx::connection conn(db_->AdminUrl());
      pqxx::read_transaction tx(conn);
      for (const auto& row : tx.exec("SELECT stream_id, max(stream_version) FROM events GROUP BY stream_id"))
        versions_before[row[0].c_str()] = row[1].as<std::int64_t>();
    }
    std::mutex mu;
    std::set<std::string> committed;  // guarded by mu
    std::atomic<int> budget{kEventsPerRun};
    std::atomic<int> rolled_back{0};

    std::vector<Received> received(2);
    std::atomic<bool> writers_done{false};
    std::vector<std::thread> subscribers;
    for (int s = 0; s < 2; ++s)
      subscribers.emplace_back([&, s] {
        Subscription sub(store, &waker, {.from = start, .batch_size = 300, .poll_interval = 100ms});
        // Follow until the writers are done, then until everything committed arrived.
        while (!writers_done) {
          auto batch = sub.Next(100ms);
          ASSERT_TRUE(batch.has_value()) << batch.error().message;
          received[s].events.insert(received[s].events.end(), batch->begin(), batch->end());
        }
        size_t total;
        {
          std::lock_guard lock(mu);
          total = committed.size();
        }
        size_t have = received[s].events.size();
        auto rest = Drain(sub, have < total ? total - have : 0, std::chrono::seconds(60));
        received[s].events.insert(received[s].events.end(), rest.events.begin(), rest.events.end());
      });

    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        std::mt19937 rng(run * 100 + w);
        pqxx::connection conn(db_->ServiceUrl());
        EventStore::PrepareStatements(conn);
        while (budget > 0) {
          int n = std::uniform_int_distribution<int>(1, 8)(rng);
          std::vector<NewEvent> batch;
          for (int i = 0; i < n; ++i)
            batch.push_back(TestEvent("pair-" + std::to_string(std::uniform_int_distribution<int>(0, kStreams - 1)(rng))));
          bool rollback = std::uniform_int_distribution<int>(0, 9)(rng) == 0;
          try {
            pqxx::work tx(conn);
            auto r = AppendInTransaction(tx, {}, batch);
            ASSERT_TRUE(r.has_value()) << r.error().message;
            // Hold the transaction open a little: commits land out of id order.
            std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 1500)(rng)));
            if (rollback) {
              tx.abort();
              ++rolled_back;
              continue;
            }
            tx.commit();
          } catch (const pqxx::unique_violation&) {
            continue;  // lost a race for a stream version: nothing was written
          } catch (const pqxx::deadlock_detected&) {
            continue;  // two batches took the same streams in opposite orders
          }
          std::lock_guard lock(mu);
          for (const auto& e : batch) committed.insert(e.event_id);
          budget -= n;
          notifier.Appended({.events = {AppendedEvent{batch.back().event_id, batch.back().stream_id, 0, {}}}}, batch, {});
        }
      });
    for (auto& t : writers) t.join();
    writers_done = true;
    for (auto& t : subscribers) t.join();

    EXPECT_GT(rolled_back.load(), 0);
    for (const auto& r : received) ExpectExactlyOnceInStreamOrder(r, committed, versions_before);
    std::printf("run %d: %zu events committed, %d transactions rolled back, %.1f s\n", run, committed.size(),
                rolled_back.load(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - run_started).count());
    ASSERT_FALSE(received[0].events.empty());
    start = received[0].events.back().position;
    if (HasFailure()) break;
  }
  // The stream order held over all runs too: versions per stream are contiguous in the table.
  pqxx::connection conn(db_->AdminUrl());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM (SELECT stream_id FROM events GROUP BY stream_id "
                    "HAVING max(stream_version) <> count(*)) gaps")[0][0].as<int>(),
            0);
}

TEST_F(SubscriptionTest, RedisDownSubscribersPollAndLoseNothingThenWakeUpsResume) {
  auto redis = orchestrator::RedisServer::Start(testing::Services().dir / ("redis-" + db_->name()));
  ASSERT_TRUE(redis.has_value()) << redis.error().message;
  RedisAddress address{"127.0.0.1", (*redis)->port()};
  RedisNotifier notifier(address, db_->ChannelPrefix());
  EventStore store(*pool_, &notifier);
  RedisWaker waker(address, ChannelsFor(db_->ChannelPrefix(), {}));
  Subscription sub(store, &waker, {.poll_interval = 100ms});

  for (int i = 0; i < 100 && !waker.connected(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(waker.connected());

  std::set<std::string> committed;
  auto append_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      auto e = TestEvent("pair-" + std::to_string(i % 7));
      auto r = store.Append(e.stream_id, ExpectedVersion::Any(), std::vector{e});
      ASSERT_TRUE(r.has_value()) << "an append must not fail because Redis is down: " << r.error().message;
      committed.insert(e.event_id);
    }
  };

  append_some(50);
  Received all = Drain(sub, 50, 30s);
  ASSERT_EQ(all.events.size(), 50u);
  // The events may have been found by a poll before their wake-up came in.
  for (int i = 0; i < 100 && waker.messages() == 0; ++i) std::this_thread::sleep_for(50ms);
  const auto messages_before = waker.messages();
  EXPECT_GT(messages_before, 0u) << "live wake-ups arrived through Redis";

  (*redis)->Stop();
  for (int i = 0; i < 100 && waker.connected(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(waker.connected());
  append_some(200);
  Received while_down = Drain(sub, 200, 30s);
  all.events.insert(all.events.end(), while_down.events.begin(), while_down.events.end());
  EXPECT_EQ(while_down.events.size(), 200u) << "subscribers keep receiving by polling";

  ASSERT_TRUE((*redis)->Restart().has_value());
  for (int i = 0; i < 200 && !waker.connected(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(waker.connected()) << "the waker reconnects when Redis is back";
  // The notifier reconnects lazily (at most once a second): keep appending
  // until wake-ups flow again.
  const auto messages_down = waker.messages();
  for (int i = 0; i < 60 && waker.messages() == messages_down; ++i) {
    append_some(1);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GT(waker.messages(), messages_down) << "live wake-ups resume after Redis restarts";
  Received after = Drain(sub, committed.size() - all.events.size(), 30s);
  all.events.insert(all.events.end(), after.events.begin(), after.events.end());
  ExpectExactlyOnceInStreamOrder(all, committed);
}

TEST_F(SubscriptionTest, PublishesCompactHintsOnAllCategoryAndWakeChannels) {
  auto address = Redis();
  redisContext* c = redisConnect(address.host.c_str(), address.port);
  ASSERT_TRUE(c != nullptr && c->err == 0);
  const std::string all = AllEventsChannel(db_->ChannelPrefix());
  const std::string jobs = CategoryChannel(db_->ChannelPrefix(), "job");
  const std::string wake = WakeChannel(db_->ChannelPrefix(), "jobs:SCRAPE_URL");
  freeReplyObject(redisCommand(c, "SUBSCRIBE %s %s %s", all.c_str(), jobs.c_str(), wake.c_str()));
  for (int i = 0; i < 2; ++i) {  // the other two confirmations
    void* r = nullptr;
    ASSERT_EQ(redisGetReply(c, &r), REDIS_OK);
    freeReplyObject(r);
  }
  {
    RedisNotifier notifier(address, db_->ChannelPrefix());
    EventStore store(*pool_, &notifier);
    auto r = store.Append("job-1", ExpectedVersion::NoStream(), std::vector{TestEvent("job-1", "JobRequested")},
                          {.wake_channels = {"jobs:SCRAPE_URL"}});
    ASSERT_TRUE(r.has_value());
  }  // the destructor flushes
  std::map<std::string, std::string> got;
  for (int i = 0; i < 3; ++i) {
    void* reply = nullptr;
    ASSERT_EQ(redisGetReply(c, &reply), REDIS_OK);
    auto* m = static_cast<redisReply*>(reply);
    ASSERT_EQ(m->elements, 3u);
    got[m->element[1]->str] = m->element[2]->str;
    freeReplyObject(reply);
  }
  redisFree(c);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_NE(got[all].find("\"n\":1"), std::string::npos) << got[all];
  EXPECT_NE(got[jobs].find("\"p\":"), std::string::npos) << got[jobs];
  EXPECT_TRUE(got.contains(wake));
}

TEST_F(SubscriptionTest, FilteredSubscriptionSeesOnlyItsCategoryAndAdvances) {
  ASSERT_TRUE(store_->Append("job-f", ExpectedVersion::Any(), std::vector{TestEvent("job-f", "JobRequested")}));
  ASSERT_TRUE(store_->Append("pair-f", ExpectedVersion::Any(), std::vector{TestEvent("pair-f")}));
  ASSERT_TRUE(store_->Append("job-g", ExpectedVersion::Any(), std::vector{TestEvent("job-g", "JobRequested")}));
  Subscription sub(*store_, nullptr, {.filter = {{"job"}, {}}, .poll_interval = 20ms});
  auto got = Drain(sub, 2, 30s);
  ASSERT_EQ(got.events.size(), 2u);
  EXPECT_EQ(got.events[0].stream_id, "job-f");
  EXPECT_EQ(got.events[1].stream_id, "job-g");
  auto none = sub.Next(50ms);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace furrsight::events
