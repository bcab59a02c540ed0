// Projections against a real PostgreSQL: the read models' content, live
// tables identical to a rebuild (invariant 1), atomic switches under
// readers, time-travel snapshots.
#include <thread>

#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "projections/rebuild.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/projection_fixture.hpp"

namespace furrsight::projections {
namespace {

using testing::TestEvent;
using namespace std::chrono_literals;

class ProjectionsTest : public testing::ProjectionTest {
 protected:
  std::string Label() const override { return "projections"; }





  void Append(const std::string& stream, const std::string& type, const std::string& payload) {
    auto r = store_->Append(stream, events::ExpectedVersion::Any(), std::vector{TestEvent(stream, type, payload)});
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  FurrSightProjection projection_;
};

TEST_F(ProjectionsTest, BuildsTheSeedTablesFromCurationAndJobEvents) {
  const std::string pair = "pair-6a1b9c1e-0000-4000-8000-000000000001";
  const std::string job = "job-6a1b9c1e-0000-4000-8000-000000000002";
  Append("breed-poodle", "BreedRegistered", R"({"name":"Poodle","slug":"poodle"})");
  Append("breed-shih-tzu", "BreedRegistered", R"({"name":"Shih Tzu","slug":"shih-tzu"})");
  Append("service-lion-cut", "ServiceRegistered", R"({"name":"Lion cut","slug":"lion-cut","description":"mane"})");
  Append("service-nail-trim", "ServiceRegistered", R"({"name":"Nail trim","slug":"nail-trim"})");
  Append(pair, "PairProposed",
         R"({"before_image_url":"blob://b","after_image_url":"blob://a","source_url":"http://x.test/p","cue":"alt_text","similarity":0.8})");
  Append(pair, "PairAnalyzed", R"({"breed":"poodle","services":["Lion cut"],"ok":true,"confidence":0.9})");
  Append(pair, "PairNoteAdded", R"({"note":"first"})");
  Append(pair, "PairNoteAdded", R"({"note":"second"})");
  Append(pair, "PairServicesSet", R"({"services":["Nail trim"],"service_slugs":["nail-trim"]})");
  Append(pair, "PairVerified", R"({})");
  Append(job, "JobRequested", R"({"job_type":"SCRAPE_URL","payload":{"url":"http://x.test"},"max_attempts":3})");
  Append(job, "JobStarted", R"({"worker":"w1","attempt":1,"lease_expires_at_us":"1790000000000000"})");
  Append(job, "JobProgressed", R"({"attempt":1,"progress":40,"counters":{"pages":"3"}})");
  Append(job, "JobCompleted", R"({"attempt":1,"result":{"pairs":2}})");
  WaitReadable();

  Generation live = Live(projection_);
  Projector projector(db_->AdminUrl(), *store_, nullptr, projection_);
  auto applied = projector.CatchUp(live.generation);
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_EQ(*applied, 14);

  auto p = Query("SELECT status, notes, b.name, version, analysed, source_url FROM grooming_pairs p "
                 "JOIN dog_breeds b ON b.id = p.dog_breed_id");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0][0].as<std::string>(), "VERIFIED");
  EXPECT_EQ(p[0][1].as<std::string>(), "first\nsecond");
  EXPECT_EQ(p[0][2].as<std::string>(), "Poodle") << "the model's breed, matched by name";
  EXPECT_EQ(p[0][3].as<int>(), 6);
  EXPECT_TRUE(p[0][4].as<bool>());
  auto services = Query("SELECT s.service_name FROM pair_service_link l JOIN grooming_services s ON s.id = l.grooming_service_id");
  ASSERT_EQ(services.size(), 1u) << "the researcher's services replace the model's";
  EXPECT_EQ(services[0][0].as<std::string>(), "Nail trim");
  auto ids = Query("SELECT id, name FROM dog_breeds ORDER BY id");
  EXPECT_EQ(ids[0][0].as<int>(), 1);
  EXPECT_EQ(ids[1][1].as<std::string>(), "Shih Tzu");
  auto j = Query("SELECT status, progress, attempt, result->>'pairs', counters->>'pages', started_at IS NOT NULL, "
                 "completed_at IS NOT NULL, job_type FROM jobs");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0][0].as<std::string>(), "COMPLETED");
  EXPECT_EQ(j[0][1].as<int>(), 100);
  EXPECT_EQ(j[0][2].as<int>(), 1);
  EXPECT_EQ(j[0][3].as<std::string>(), "2");
  EXPECT_EQ(j[0][4].as<std::string>(), "3");
  EXPECT_TRUE(j[0][5].as<bool>());
  EXPECT_TRUE(j[0][6].as<bool>());
  EXPECT_EQ(j[0][7].as<std::string>(), "SCRAPE_URL");

  // Applying again is a no-op: the checkpoint moved with the rows.
  EXPECT_EQ(*projector.CatchUp(live.generation), 0);
}

TEST_F(ProjectionsTest, SeedColumnsDefaultsAndConstraintsAreAsSpecified) {
  Live(projection_);
  auto cols = Query(
      "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' || "
      "coalesce(character_maximum_length::text, '') || ':' || coalesce(column_default, '') "
      "FROM information_schema.columns WHERE table_schema = 'furrsight_g1' ORDER BY 1");
  std::set<std::string> have;
  for (const auto& r : cols) have.insert(r[0].as<std::string>());
  for (const char* expected : {
           "jobs.id:uuid:NO::", "jobs.job_type:character varying:NO:50:",
           "jobs.status:character varying:NO:20:'PENDING'::character varying", "jobs.payload:jsonb:YES::",
           "jobs.result:jsonb:YES::", "jobs.error_message:text:YES::",
           "jobs.created_at:timestamp with time zone:NO::now()", "jobs.started_at:timestamp with time zone:YES::",
           "jobs.completed_at:timestamp with time zone:YES::",
           "dog_breeds.name:character varying:NO:100:",
           "grooming_services.service_name:character varying:NO:100:", "grooming_services.description:text:YES::",
           "grooming_pairs.before_image_url:text:NO::", "grooming_pairs.after_image_url:text:NO::",
           "grooming_pairs.source_url:text:YES::",
           "grooming_pairs.status:character varying:NO:20:'UNVERIFIED'::character varying",
           "grooming_pairs.dog_breed_id:integer:YES::", "grooming_pairs.notes:text:YES::",
           "grooming_pairs.created_at:timestamp with time zone:NO::now()",
           "pair_service_link.grooming_pair_id:uuid:NO::", "pair_service_link.grooming_service_id:integer:NO::"})
    EXPECT_TRUE(have.contains(expected)) << expected;
  auto serial = Query("SELECT column_default FROM information_schema.columns WHERE table_schema = 'furrsight_g1' "
                      "AND table_name = 'dog_breeds' AND column_name = 'id'");
  EXPECT_NE(serial[0][0].as<std::string>().find("nextval"), std::string::npos) << "dog_breeds.id is SERIAL";
  auto fks = Query("SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = 'furrsight_g1' "
                   "AND constraint_type = 'FOREIGN KEY'", /*as_owner=*/true);
  EXPECT_EQ(fks[0][0].as<int>(), 3) << "grooming_pairs.dog_breed_id and both pair_service_link columns";
}

TEST_F(ProjectionsTest, LiveTablesEqualAFreshRebuildRowForRow) {
  const std::int64_t kEvents = std::getenv("FURRSIGHT_TEST_HISTORY") ? std::atoll(std::getenv("FURRSIGHT_TEST_HISTORY"))
                                                                     : 100000;
  Generation live = Live(projection_);
  std::atomic<bool> stop{false};
  std::thread follower([&] {
    Projector projector(db_->AdminUrl(), *store_, nullptr, projection_, {.batch_size = 500, .poll_interval = 20ms});
    auto ok = projector.Run(stop);
    EXPECT_TRUE(ok.has_value()) << ok.error().message;
  });
  // Events arrive while the projector runs.
  auto appended = testing::GenerateHistory(*store_, {.events = kEvents, .seed = 7});
  WaitReadable();
  pqxx::connection conn(db_->AdminUrl());
  for (int i = 0; i < 6000; ++i) {
    auto g = LoadGeneration(conn, "furrsight", live.generation);
    if (g && g->checkpoint == *store_->Head()) break;
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  follower.join();
  EXPECT_EQ(LoadGeneration(conn, "furrsight", live.generation)->checkpoint, *store_->Head());

  auto rebuilt = CreateGeneration(conn, projection_);
  ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error().message;
  Projector rebuilder(db_->AdminUrl(), *store_, nullptr, projection_, {.batch_size = 1000});
  auto applied = rebuilder.CatchUp(rebuilt->generation);
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_EQ(*applied, appended);

  auto live_sums = Checksums(projection_, live.schema);
  auto rebuilt_sums = Checksums(projection_, rebuilt->schema);
  for (const auto& table : projection_.tables()) {
    EXPECT_EQ(live_sums[table], rebuilt_sums[table]) << table;
    EXPECT_NE(live_sums[table].substr(0, 2), "0:") << table << " is empty: the history must exercise it";
  }
}

TEST_F(ProjectionsTest, ReadersSeeOldOrNewTablesNeverPartialDuringRebuildAndSwitch) {
  testing::GenerateHistory(*store_, {.events = 20000, .seed = 3});
  WaitReadable();
  Generation live = Live(projection_);
  Projector projector(db_->AdminUrl(), *store_, nullptr, projection_);
  ASSERT_TRUE(projector.CatchUp(live.generation).has_value());
  const auto full = Query("SELECT count(*) FROM grooming_pairs")[0][0].as<long long>();
  ASSERT_GT(full, 0);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, bad{0};
  std::string first_problem;
  std::thread reader([&] {
    pqxx::connection conn(db_->ServiceUrl());
    while (!done) {
      try {
        pqxx::read_transaction tx(conn);
        auto n = tx.exec("SELECT count(*) FROM grooming_pairs")[0][0].as<long long>();
        if (n != full && bad++ == 0) first_problem = "saw " + std::to_string(n) + " rows";
      } catch (const std::exception& e) {
        if (bad++ == 0) first_problem = e.what();
      }
      ++reads;
      std::this_thread::sleep_for(10ms);
    }
  });
  pqxx::connection conn(db_->AdminUrl());
  for (int round = 0; round < 3; ++round) {
    auto next = CreateGeneration(conn, projection_);
    ASSERT_TRUE(next.has_value()) << next.error().message;
    ASSERT_TRUE(projector.CatchUp(next->generation).has_value());
    ASSERT_TRUE(Switch(conn, projection_, next->generation).has_value());
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 10);
  EXPECT_EQ(bad.load(), 0) << first_problem;
  auto generations = ListGenerations(conn);
  int live_count = 0;
  for (const auto& g : *generations) live_count += g.state == "live";
  EXPECT_EQ(live_count, 1);
  EXPECT_EQ(generations->size(), 4u) << "old generations stay until dropped";
  EXPECT_FALSE(DropGeneration(conn, "furrsight", generations->back().generation).has_value()) << "live is not dropped";
  EXPECT_TRUE(DropGeneration(conn, "furrsight", 1).has_value());
}

// Fencing: two appliers racing on one generation (as after a SIGKILL whose
// backend still commits the last batch) never apply an event twice.
TEST_F(ProjectionsTest, TwoAppliersOnOneGenerationNeverApplyAnEventTwice) {
  const auto total = testing::GenerateHistory(*store_, {.events = 20000, .seed = 5});
  WaitReadable();
  Generation live = Live(projection_);
  std::atomic<int> conflicts{0};
  auto applier = [&] {
    Projector projector(db_->AdminUrl(), *store_, nullptr, projection_, {.batch_size = 200});
    for (int i = 0; i < 1000; ++i) {
      auto n = projector.CatchUp(live.generation);
      if (n && *n == 0) return;
      if (!n) {
        ASSERT_EQ(n.error().code, base::ErrorCode::kConflict) << n.error().message;
        ++conflicts;
      }
    }
  };
  std::thread a(applier), b(applier);
  a.join();
  b.join();
  pqxx::connection conn(db_->AdminUrl());
  auto after = LoadGeneration(conn, "furrsight", live.generation);
  EXPECT_EQ(after->events_applied, total) << "an event was applied twice or skipped";
  std::printf("appliers collided %d times\n", conflicts.load());
  auto clean = CreateGeneration(conn, projection_);
  ASSERT_TRUE(Projector(db_->AdminUrl(), *store_, nullptr, projection_).CatchUp(clean->generation).has_value());
  EXPECT_EQ(Checksums(projection_, live.schema), Checksums(projection_, clean->schema));
}

// A rebuild asked to stop (an API shutting down) stops after the batch in
// hand, not after the whole log; the generation keeps its checkpoint, so
// catching up later goes on from there and ends equal to a full build.
TEST_F(ProjectionsTest, AStoppedRebuildStopsWithinABatchAndCanGoOn) {
  const auto total = testing::GenerateHistory(*store_, {.events = 5000, .seed = 11});
  WaitReadable();
  std::atomic<bool> stop{false};
  int stopped_generation = 0;
  RebuildOptions options;
  options.projector.batch_size = 200;
  auto stopped = Rebuild(db_->AdminUrl(), *store_, projection_, options,
                         [&](const Generation& g) {
                           stopped_generation = g.generation;
                           stop = true;  // asked to stop as soon as it starts
                         },
                         {}, &stop);
  ASSERT_FALSE(stopped.has_value());
  EXPECT_NE(stopped.error().message.find("furrsight projections drop furrsight"), std::string::npos)
      << stopped.error().message;
  pqxx::connection conn(db_->AdminUrl());
  auto partial = LoadGeneration(conn, "furrsight", stopped_generation);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->state, "building");
  EXPECT_GT(partial->events_applied, 0);
  EXPECT_LE(partial->events_applied, 200) << "one batch, not the whole log";

  Projector projector(db_->AdminUrl(), *store_, nullptr, projection_, {.batch_size = 200});
  auto rest = projector.CatchUp(stopped_generation);
  ASSERT_TRUE(rest.has_value()) << rest.error().message;
  EXPECT_EQ(partial->events_applied + *rest, total);
  auto clean = CreateGeneration(conn, projection_);
  ASSERT_TRUE(Projector(db_->AdminUrl(), *store_, nullptr, projection_).CatchUp(clean->generation).has_value());
  EXPECT_EQ(Checksums(projection_, partial->schema), Checksums(projection_, clean->schema));
}

TEST_F(ProjectionsTest, SnapshotUntilAPositionLeavesTheLiveModelUntouched) {
  const std::string pair = "pair-6a1b9c1e-0000-4000-8000-0000000000aa";
  Append(pair, "PairProposed", R"({"before_image_url":"blob://b","after_image_url":"blob://a"})");
  WaitReadable();
  const auto before_verify = store_->Head()->global_position;
  Append(pair, "PairVerified", R"({})");
  WaitReadable();
  Generation live = Live(projection_);
  Projector projector(db_->AdminUrl(), *store_, nullptr, projection_);
  ASSERT_TRUE(projector.CatchUp(live.generation).has_value());

  pqxx::connection conn(db_->AdminUrl());
  auto snap = CreateGeneration(conn, projection_, "snapshot", std::string("audit_before_verify"));
  ASSERT_TRUE(snap.has_value()) << snap.error().message;
  Projector past(db_->AdminUrl(), *store_, nullptr, projection_, {.until_position = before_verify});
  ASSERT_TRUE(past.CatchUp(snap->generation).has_value());
  EXPECT_EQ(Query("SELECT status FROM audit_before_verify.grooming_pairs")[0][0].as<std::string>(), "UNVERIFIED");
  EXPECT_EQ(Query("SELECT status FROM grooming_pairs")[0][0].as<std::string>(), "VERIFIED");
  EXPECT_FALSE(Switch(conn, projection_, snap->generation).has_value()) << "a snapshot never goes live";
}

}  // namespace
}  // namespace furrsight::projections
