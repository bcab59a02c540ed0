// The event store against a real PostgreSQL: append semantics, reads,
// immutability (invariant 2) and acknowledgement after commit (invariant 3).
#include <barrier>
#include <thread>

#include "tests/support/store_fixture.hpp"

namespace furrsight::events {
namespace {

using testing::TestEvent;

class EventStoreTest : public testing::StoreTest {};

TEST_F(EventStoreTest, AppendAssignsConsecutiveVersionsAndIncreasingPositions) {
  std::vector<NewEvent> batch = {TestEvent("pair-1"), TestEvent("pair-1"), TestEvent("pair-1")};
  auto r = store_->Append("pair-1", ExpectedVersion::NoStream(), batch);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->events.size(), 3u);
  EXPECT_FALSE(r->duplicate);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r->events[i].stream_version, i + 1);
    EXPECT_EQ(r->events[i].event_id, batch[i].event_id);
  }
  EXPECT_LT(r->events[0].position.global_position, r->events[2].position.global_position);
  EXPECT_EQ(r->events[0].position.tx_id, r->events[2].position.tx_id) << "one statement, one transaction";

  auto more = store_->Append("pair-1", ExpectedVersion::Exactly(3), std::vector{TestEvent("pair-1")});
  ASSERT_TRUE(more.has_value()) << more.error().message;
  EXPECT_EQ(more->events[0].stream_version, 4);
}

TEST_F(EventStoreTest, AppendRejectsStaleExpectedVersionNamingStreamAndVersions) {
  ASSERT_TRUE(store_->Append("job-7", ExpectedVersion::NoStream(), std::vector{TestEvent("job-7", "JobRequested")}));
  ASSERT_TRUE(store_->Append("job-7", ExpectedVersion::Exactly(1), std::vector{TestEvent("job-7", "JobStarted")}));
  auto stale = store_->Append("job-7", ExpectedVersion::Exactly(1), std::vector{TestEvent("job-7", "JobCompleted")});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, base::ErrorCode::kConflict);
  ASSERT_TRUE(stale.error().conflict.has_value());
  EXPECT_EQ(stale.error().conflict->stream_id, "job-7");
  EXPECT_EQ(stale.error().conflict->expected, "1");
  EXPECT_EQ(stale.error().conflict->actual, 2);
  EXPECT_EQ(CountEvents(), 2);
}

TEST_F(EventStoreTest, NoStreamExpectationFailsWhenTheStreamExists) {
  ASSERT_TRUE(store_->Append("breed-poodle", ExpectedVersion::NoStream(),
                             std::vector{TestEvent("breed-poodle", "BreedRegistered")}));
  auto again = store_->Append("breed-poodle", ExpectedVersion::NoStream(),
                              std::vector{TestEvent("breed-poodle", "BreedRegistered")});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().conflict->expected, "no_stream");
  EXPECT_EQ(again.error().conflict->actual, 1);
}

TEST_F(EventStoreTest, MultiStreamAppendIsAllOrNothing) {
  ASSERT_TRUE(store_->Append("pair-a", ExpectedVersion::NoStream(), std::vector{TestEvent("pair-a")}));
  std::vector<StreamExpectation> expect = {{"pair-a", ExpectedVersion::NoStream()}, {"pair-b", ExpectedVersion::NoStream()}};
  auto r = store_->Append(expect, std::vector{TestEvent("pair-b"), TestEvent("pair-a")});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().conflict->stream_id, "pair-a");
  EXPECT_EQ(*store_->StreamVersion("pair-b"), 0) << "nothing of the batch may be written";

  std::vector<StreamExpectation> ok = {{"pair-a", ExpectedVersion::Exactly(1)}, {"pair-b", ExpectedVersion::NoStream()}};
  auto w = store_->Append(ok, std::vector{TestEvent("pair-b"), TestEvent("pair-a"), TestEvent("pair-b")});
  ASSERT_TRUE(w.has_value()) << w.error().message;
  EXPECT_EQ(w->events[0].stream_version, 1);
  EXPECT_EQ(w->events[1].stream_version, 2);
  EXPECT_EQ(w->events[2].stream_version, 2);
}

TEST_F(EventStoreTest, ResendingTheSameEventIdsReturnsTheOriginalResult) {
  std::vector<NewEvent> batch = {TestEvent("pair-r"), TestEvent("pair-r")};
  auto first = store_->Append("pair-r", ExpectedVersion::NoStream(), batch);
  ASSERT_TRUE(first.has_value());
  auto again = store_->Append("pair-r", ExpectedVersion::NoStream(), batch);
  ASSERT_TRUE(again.has_value()) << "a re-send is not an error: " << again.error().message;
  EXPECT_TRUE(again->duplicate);
  ASSERT_EQ(again->events.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(again->events[i].position, first->events[i].position);
    EXPECT_EQ(again->events[i].stream_version, first->events[i].stream_version);
  }
  EXPECT_EQ(CountEvents(), 2);
}

TEST_F(EventStoreTest, PartlyRepeatedBatchIsRefused) {
  auto e1 = TestEvent("pair-p");
  ASSERT_TRUE(store_->Append("pair-p", ExpectedVersion::Any(), std::vector{e1}));
  auto r = store_->Append("pair-p", ExpectedVersion::Any(), std::vector{e1, TestEvent("pair-p")});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_EQ(CountEvents(), 1);
}

TEST_F(EventStoreTest, TwoWritersRacingOnOneStreamOneWinsOneConflicts) {
  for (int round = 0; round < 25; ++round) {
    const std::string stream = "job-race" + std::to_string(round);
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::NoStream(), std::vector{TestEvent(stream, "JobRequested")}));
    std::barrier start(2);
    std::array<base::Result<AppendResult>, 2> results;
    auto writer = [&](int i) {
      auto e = TestEvent(stream, "JobStarted");
      start.arrive_and_wait();
      results[i] = store_->Append(stream, ExpectedVersion::Exactly(1), std::vector{e});
    };
    std::thread a(writer, 0), b(writer, 1);
    a.join();
    b.join();
    int wins = results[0].has_value() + results[1].has_value();
    ASSERT_EQ(wins, 1) << "round " << round;
    const auto& loser = results[0].has_value() ? results[1] : results[0];
    EXPECT_EQ(loser.error().code, base::ErrorCode::kConflict);
    ASSERT_TRUE(loser.error().conflict.has_value()) << loser.error().message;
    EXPECT_EQ(loser.error().conflict->actual, 2);
    EXPECT_EQ(*store_->StreamVersion(stream), 2);
  }
}

TEST_F(EventStoreTest, ConcurrentAnyAppendsToOneStreamAllLandInOrder) {
  constexpr int kWriters = 4, kEach = 50;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w)
    writers.emplace_back([&] {
      for (int i = 0; i < kEach; ++i)
        if (auto r = store_->Append("pair-any", ExpectedVersion::Any(), std::vector{TestEvent("pair-any")}); !r) {
          ++failures;
          ADD_FAILURE() << r.error().message;
        }
    });
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto events = store_->ReadStream("pair-any", 1, Direction::kForward, 1000);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), static_cast<size_t>(kWriters * kEach));
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].stream_version, static_cast<int64_t>(i + 1));
}

TEST_F(EventStoreTest, MalformedEventsAreRefusedWithClearErrors) {
  auto bad_id = TestEvent("pair-x");
  bad_id.event_id = "not-a-uuid";
  auto bad_stream = TestEvent("Pair X");
  auto no_actor = TestEvent("pair-x");
  no_actor.metadata.actor.clear();
  auto bad_payload = TestEvent("pair-x", "PairNoteAdded", R"({"note": )");
  auto bad_type = TestEvent("pair-x", "pair_noted");
  for (const auto& [event, needle] : std::vector<std::pair<NewEvent, std::string>>{
           {bad_id, "not a UUID"}, {bad_stream, "<category>-<id>"}, {no_actor, "actor"},
           {bad_payload, "append refused"}, {bad_type, "PascalCase"}}) {
    auto r = store_->Append("pair-x", ExpectedVersion::Any(), std::vector{event});
    ASSERT_FALSE(r.has_value()) << needle;
    EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument) << r.error().message;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(CountEvents(), 0);
}

TEST_F(EventStoreTest, ReadsStreamForwardAndBackwardAndLogByCategoryAndType) {
  ASSERT_TRUE(store_->Append("pair-s", ExpectedVersion::Any(),
                             std::vector{TestEvent("pair-s", "PairProposed"), TestEvent("pair-s", "PairVerified"),
                                         TestEvent("pair-s", "PairNoteAdded")}));
  ASSERT_TRUE(store_->Append("job-s", ExpectedVersion::Any(), std::vector{TestEvent("job-s", "JobRequested")}));
  WaitReadable();

  auto back = store_->ReadStream("pair-s", std::numeric_limits<std::int64_t>::max(), Direction::kBackward, 2);
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].stream_version, 3);
  EXPECT_EQ((*back)[1].type, "PairVerified");
  auto fwd = store_->ReadStream("pair-s", 2);
  ASSERT_EQ(fwd->size(), 2u);
  EXPECT_EQ(fwd->front().stream_version, 2);
  EXPECT_EQ(fwd->front().category, "pair");
  EXPECT_NE(fwd->front().metadata_json.find("\"actor\": \"user:test\""), std::string::npos) << fwd->front().metadata_json;

  auto jobs = store_->ReadAll({}, ReadFilter{{"job"}, {}});
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ(jobs->front().stream_id, "job-s");
  auto verified = store_->ReadAll({}, ReadFilter{{}, {"PairVerified", "JobRequested"}});
  ASSERT_EQ(verified->size(), 2u);
  auto all = store_->ReadAll({});
  ASSERT_EQ(all->size(), 4u);
  auto after_two = store_->ReadAll((*all)[1].position);
  ASSERT_EQ(after_two->size(), 2u);
  EXPECT_EQ(after_two->front().event_id, (*all)[2].event_id);
  EXPECT_EQ(store_->Head()->global_position, all->back().position.global_position);
  EXPECT_EQ(*store_->CountAfter((*all)[0].position), 3);

  auto bad = store_->ReadAll({}, ReadFilter{{"Pair; DROP"}, {}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, base::ErrorCode::kInvalidArgument);
}

TEST_F(EventStoreTest, AnAcknowledgedAppendIsVisibleToEveryOtherConnection) {
  auto r = store_->Append("pair-ack", ExpectedVersion::Any(), std::vector{TestEvent("pair-ack")});
  ASSERT_TRUE(r.has_value());
  pqxx::connection other(db_->ServiceUrl());
  pqxx::read_transaction tx(other);
  EXPECT_EQ(tx.exec_params("SELECT count(*) FROM events WHERE event_id = $1", r->events[0].event_id)[0][0].as<int>(), 1);
}

// Invariant 2: the database itself refuses to change the log.
class ImmutabilityTest : public testing::StoreTest {
 protected:
  void ExpectRefused(const std::string& url, const std::string& sql) {
    pqxx::connection conn(url);
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql << " as " << url;
  }
};

TEST_F(ImmutabilityTest, UpdateDeleteTruncateFailForServiceRoleAndOwner) {
  ASSERT_TRUE(store_->Append("pair-i", ExpectedVersion::Any(), std::vector{TestEvent("pair-i")}));
  for (const std::string& url : {db_->ServiceUrl(), db_->AdminUrl()}) {
    ExpectRefused(url, "UPDATE events SET payload = '{\"note\":\"changed\"}'");
    ExpectRefused(url, "DELETE FROM events");
    ExpectRefused(url, "TRUNCATE events");
    ExpectRefused(url, "UPDATE events SET payload = payload WHERE false");
  }
  EXPECT_EQ(CountEvents(), 1);
}

TEST_F(ImmutabilityTest, ServiceRoleHoldsOnlyInsertAndSelect) {
  pqxx::connection conn(db_->AdminUrl());
  pqxx::read_transaction tx(conn);
  for (const char* privilege : {"UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"})
    EXPECT_FALSE(tx.exec_params("SELECT has_table_privilege('furrsight_app', 'events', $1)", privilege)[0][0].as<bool>())
        << privilege;
  for (const char* privilege : {"INSERT", "SELECT"})
    EXPECT_TRUE(tx.exec_params("SELECT has_table_privilege('furrsight_app', 'events', $1)", privilege)[0][0].as<bool>())
        << privilege;
}

TEST_F(ImmutabilityTest, OwnerRefusalComesFromTheTriggerNotMissingPrivileges) {
  ASSERT_TRUE(store_->Append("pair-t", ExpectedVersion::Any(), std::vector{TestEvent("pair-t")}));
  pqxx::connection conn(db_->AdminUrl());
  pqxx::work tx(conn);
  try {
    tx.exec("DELETE FROM events");
    FAIL() << "DELETE succeeded";
  } catch (const pqxx::sql_error& e) {
    EXPECT_NE(std::string(e.what()).find("append-only"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace furrsight::events
