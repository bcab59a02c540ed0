// Time travel and schema changes against a real PostgreSQL: a stream as of
// a past moment; a new projection version with an added column, rebuilt and
// switched while readers keep querying.
#include <thread>

#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "projections/stream_state.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::projections {
namespace {

using testing::TestEvent;
using namespace std::chrono_literals;

class TimeTravelTest : public testing::StoreTest {
 protected:
  std::string Label() const override { return "time_travel"; }
  events::AppendedEvent Append(const std::string& stream, const std::string& type, const std::string& payload) {
    auto r = store_->Append(stream, events::ExpectedVersion::Any(), std::vector{TestEvent(stream, type, payload)});
    EXPECT_TRUE(r.has_value());
    return r->events[0];
  }
};

TEST_F(TimeTravelTest, PairStateAsOfAPositionAndATime) {
  const std::string pair = "pair-7a1b9c1e-0000-4000-8000-000000000001";
  Append(pair, "PairProposed", R"({"before_image_url":"blob://b","after_image_url":"blob://a"})");
  auto noted = Append(pair, "PairNoteAdded", R"({"note":"looks right"})");
  std::this_thread::sleep_for(20ms);
  auto verified = Append(pair, "PairVerified", R"({})");
  Append(pair, "PairRejected", R"({"reason":"same dog? no"})");

  auto then = StateAsOf(*store_, pair, {.position = noted.position.global_position});
  ASSERT_TRUE(then.has_value()) << then.error().message;
  EXPECT_EQ((*then)["status"].as_string(), "UNVERIFIED");
  EXPECT_EQ((*then)["notes"].as_string(), "looks right");
  EXPECT_EQ((*then)["version"].as_int64(), 2);

  auto at_verify = StateAsOf(*store_, pair, {.position = verified.position.global_position});
  EXPECT_EQ((*at_verify)["status"].as_string(), "VERIFIED");
  auto now = StateAsOf(*store_, pair, {});
  EXPECT_EQ((*now)["status"].as_string(), "REJECTED");
  EXPECT_EQ((*now)["reject_reason"].as_string(), "same dog? no");

  // By time: the note's recorded_at.
  auto events = store_->ReadStream(pair);
  auto as_of_time = StateAsOf(*store_, pair, {.time_us = (*events)[1].recorded_at_us});
  EXPECT_EQ((*as_of_time)["version"].as_int64(), 2);
  auto before = StateAsOf(*store_, pair, {.time_us = (*events)[0].recorded_at_us - 1});
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().code, base::ErrorCode::kNotFound);
}

TEST(ParseAsOf, AcceptsPositionsAndIsoTimesAndRefusesTheRest) {
  EXPECT_EQ(ParseAsOf("42")->position, 42);
  EXPECT_EQ(ParseAsOf("1970-01-01T00:00:01Z")->time_us, 1'000'000);
  EXPECT_EQ(ParseAsOf("1970-01-01T01:00:00.5+01:00")->time_us, 500'000);
  EXPECT_EQ(ParseAsOf("2026-11-22T10:00:00Z")->time_us, 1795341600LL * 1'000'000);
  EXPECT_FALSE(ParseAsOf("yesterday").has_value());
  EXPECT_FALSE(ParseAsOf("2026-11-22").has_value());
}

// The next version of the FurrSight model adds grooming_pairs.note_count: the
// documented schema-change procedure (docs/operations.md).
class FurrSightV2 final : public Projection {
 public:
  std::string_view name() const override { return v1_.name(); }
  int version() const override { return v1_.version() + 1; }
  events::ReadFilter filter() const override { return v1_.filter(); }
  std::vector<std::string> tables() const override { return v1_.tables(); }
  std::string schema_sql() const override {
    return v1_.schema_sql() + "\nALTER TABLE grooming_pairs ADD COLUMN note_count integer NOT NULL DEFAULT 0;\n";
  }
  std::vector<PreparedStatement> statements() const override {
    auto s = v1_.statements();
    s.push_back({"furrsight_v2_note_count",
                 "UPDATE grooming_pairs SET note_count = note_count + 1 WHERE id = $1::uuid"});
    return s;
  }
  void Plan(const events::RecordedEvent& e, std::vector<SqlCall>& calls) const override {
    v1_.Plan(e, calls);
    if (e.type == "PairNoteAdded")
      calls.push_back({"furrsight_v2_note_count", {e.stream_id.substr(e.stream_id.find('-') + 1)}});
  }

 private:
  FurrSightProjection v1_;
};

TEST_F(TimeTravelTest, AddedColumnInANewVersionIsRebuiltAndSwitchedWhileReadersQuery) {
  testing::GenerateHistory(*store_, {.events = 5000, .seed = 21});
  WaitReadable();
  FurrSightProjection v1;
  pqxx::connection conn(db_->AdminUrl());
  auto live = EnsureLive(conn, v1);
  ASSERT_TRUE(live.has_value());
  ASSERT_TRUE(Projector(db_->AdminUrl(), *store_, nullptr, v1).CatchUp(live->generation).has_value());

  std::atomic<bool> done{false};
  std::atomic<int> errors{0}, reads{0};
  std::thread reader([&] {
    pqxx::connection rc(db_->ServiceUrl());
    while (!done) {
      try {
        pqxx::read_transaction tx(rc);
        tx.exec("SELECT id, status FROM grooming_pairs ORDER BY created_at DESC LIMIT 50");
      } catch (const std::exception&) {
        ++errors;
      }
      ++reads;
      std::this_thread::sleep_for(10ms);
    }
  });
  FurrSightV2 v2;
  auto next = CreateGeneration(conn, v2);
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->version, FurrSightProjection().version() + 1);
  ASSERT_TRUE(Projector(db_->AdminUrl(), *store_, nullptr, v2).CatchUp(next->generation).has_value());
  ASSERT_TRUE(Switch(conn, v2, next->generation).has_value());
  std::this_thread::sleep_for(100ms);
  done = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(reads.load(), 5);

  pqxx::connection rc(db_->ServiceUrl());
  pqxx::read_transaction tx(rc);
  auto notes = tx.exec("SELECT sum(note_count), count(*) FILTER (WHERE notes IS NOT NULL) FROM grooming_pairs");
  EXPECT_GT(notes[0][0].as<long long>(), 0) << "the new column is filled from the log";
  EXPECT_EQ(notes[0][0].as<long long>(), notes[0][1].as<long long>()) << "the history adds at most one note per pair";
}

}  // namespace
}  // namespace furrsight::projections
