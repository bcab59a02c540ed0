// Curation commands against the real event store (CurationService) and the
// pair list read from the projected grooming_pairs (queries::ListPairs).
#include <thread>

#include <gtest/gtest.h>

#include "orchestrator/curation/curation_service.hpp"
#include "orchestrator/queries/pair_queries.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/projector.hpp"
#include "tests/support/projection_fixture.hpp"

namespace furrsight::orchestrator {
namespace {

using curation::CurationService;
namespace json = boost::json;

class CurationTest : public testing::ProjectionTest {
 protected:
  std::string Label() const override { return "curation"; }

  void SetUp() override {
    ProjectionTest::SetUp();
    Register("breed-poodle", "BreedRegistered", R"({"name":"Poodle","slug":"poodle"})");
    Register("service-full-groom", "ServiceRegistered", R"({"name":"Full groom","slug":"full-groom"})");
    Register("service-nail-trim", "ServiceRegistered", R"({"name":"Nail trim","slug":"nail-trim"})");
  }

  void Register(const std::string& stream, const std::string& type, const std::string& payload) {
    auto e = testing::TestEvent(stream, type, payload);
    ASSERT_TRUE(store_->Append(stream, events::ExpectedVersion::NoStream(), std::span(&e, 1)));
  }

  std::string Propose(int i, const std::string& source = "https://groomers.example/gallery") {
    const std::string id = base::NewUuid();
    Register("pair-" + id, "PairProposed",
             fmt::format(R"({{"before_image_sha256":"{:064x}","after_image_sha256":"{:064x}","before_image_url":"{}/b{}.jpg",)"
                         R"("after_image_url":"{}/a{}.jpg","source_url":"{}","cue":"alt:before/after","similarity":0.7}})",
                         2 * i, 2 * i + 1, source, i, source, i, source));
    return id;
  }

  curation::CommandContext Context(const std::string& who = "user:dana") {
    const std::string id = base::NewUuid();
    return {who, id, id, "api", 0};
  }

  void CatchUp() {
    WaitReadable();  // behind another test's open write transaction, events are not readable yet
    auto live = Live(furrsight_);
    projections::Projector projector(db_->AdminUrl(), *store_, nullptr, furrsight_);
    auto applied = projector.CatchUp(live.generation);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
  }

  projections::FurrSightProjection furrsight_;
};

TEST_F(CurationTest, CommandsAppendWithThePairsVersionAndTheFoldShowsThem) {
  const std::string id = Propose(1);
  CurationService service(*store_);
  auto verified = service.Execute(id, 1, curation::VerifyPair{"sharp"}, Context());
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->status, curation::PairStatus::kVerified);
  EXPECT_EQ(verified->version, 3);  // PairVerified + PairNoteAdded
  ASSERT_EQ(verified->notes.size(), 1u);
  EXPECT_EQ(verified->notes[0].actor, "user:dana");

  auto breed = service.Execute(id, 3, curation::SetPairBreed{"poodle"}, Context());
  ASSERT_TRUE(breed);
  EXPECT_EQ(breed->breed, "Poodle") << "the spelling on record";
  auto services = service.Execute(id, 4, curation::SetPairServices{{"nail-trim", "Full Groom"}}, Context());
  ASSERT_TRUE(services);
  EXPECT_EQ(services->services, (std::vector<std::string>{"Nail trim", "Full groom"}));

  CatchUp();
  auto row = Query(fmt::format("SELECT p.status, b.name, p.version, (SELECT count(*) FROM pair_service_link l "
                               "WHERE l.grooming_pair_id = p.id), p.breed_set_by FROM grooming_pairs p "
                               "JOIN dog_breeds b ON b.id = p.dog_breed_id WHERE p.id = '{}'",
                               id));
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(std::string(row[0][0].c_str()), "VERIFIED");
  EXPECT_EQ(std::string(row[0][1].c_str()), "Poodle");
  EXPECT_EQ(row[0][2].as<int>(), 5);
  EXPECT_EQ(row[0][3].as<int>(), 2);
  EXPECT_EQ(std::string(row[0][4].c_str()), "researcher");
}

TEST_F(CurationTest, AStaleVersionIsAConflictAndChangesNothing) {
  const std::string id = Propose(2);
  CurationService service(*store_);
  ASSERT_TRUE(service.Execute(id, 1, curation::RejectPair{"blurry"}, Context("user:ana")));
  auto late = service.Execute(id, 1, curation::VerifyPair{}, Context("user:ben"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, base::ErrorCode::kConflict);
  ASSERT_TRUE(late.error().conflict.has_value());
  EXPECT_EQ(late.error().conflict->actual, 2);
  EXPECT_NE(late.error().message.find("reload"), std::string::npos);
  auto now = service.Load(id);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->status, curation::PairStatus::kRejected);
  EXPECT_EQ(now->version, 2);
}

// Two researchers at once on the same version: exactly one wins.
TEST_F(CurationTest, RacingCommandsOnOneVersionLetExactlyOneWin) {
  const std::string id = Propose(3);
  CurationService service(*store_);
  std::atomic<int> won{0}, conflicted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto r = service.Execute(id, 1, curation::AddPairNote{fmt::format("note {}", i)}, Context());
      if (r) ++won;
      else if (r.error().code == base::ErrorCode::kConflict) ++conflicted;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(conflicted.load(), 7);
  EXPECT_EQ(service.Load(id)->notes.size(), 1u);
}

TEST_F(CurationTest, ANewBreedIsRegisteredAndAnUnknownServiceRefused) {
  const std::string id = Propose(4);
  CurationService service(*store_);
  auto breed = service.Execute(id, 1, curation::SetPairBreed{"Lagotto Romagnolo"}, Context());
  ASSERT_TRUE(breed) << breed.error().message;
  auto registered = store_->ReadStream("breed-lagotto-romagnolo");
  ASSERT_TRUE(registered);
  ASSERT_EQ(registered->size(), 1u);
  EXPECT_EQ((*registered)[0].type, "BreedRegistered");
  auto unknown = service.Execute(id, 2, curation::SetPairServices{{"Nail trim", "ear plucking"}}, Context());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(unknown.error().message.find("unknown service 'ear-plucking'"), std::string::npos) << unknown.error().message;
  EXPECT_EQ(service.Load(id)->version, 2) << "nothing appended";
  auto added = service.AddService("Ear plucking", "hair removed from the ear canal", Context("user:admin"));
  ASSERT_TRUE(added);
  EXPECT_EQ(*added, "ear-plucking");
  EXPECT_EQ(service.AddService("ear  plucking", "", Context()).error().code, base::ErrorCode::kConflict);
  EXPECT_TRUE(service.Execute(id, 2, curation::SetPairServices{{"Nail trim", "ear plucking"}}, Context()));
}

TEST_F(CurationTest, AResentCommandIsIdempotent) {
  const std::string id = Propose(5);
  CurationService service(*store_);
  auto context = Context();
  ASSERT_TRUE(service.Execute(id, std::nullopt, curation::AddPairNote{"once"}, context));
  // The same command (same causation id) again: the store finds its events recorded.
  auto again = service.Execute(id, std::nullopt, curation::AddPairNote{"once"}, context);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->notes.size(), 1u);
}

TEST_F(CurationTest, AsOfShowsThePairAsItWasThen) {
  const std::string id = Propose(6);
  CurationService service(*store_);
  ASSERT_TRUE(service.Execute(id, 1, curation::RejectPair{"blurry"}, Context()));
  const auto events = store_->ReadStream("pair-" + id);
  const std::int64_t between = (*events)[0].recorded_at_us + 1;
  auto then = service.Load(id, {.time_us = (*events)[1].recorded_at_us - 1});
  auto before_it_existed = service.Load(id, {.time_us = (*events)[0].recorded_at_us - 1});
  ASSERT_TRUE(then);
  EXPECT_EQ(then->status, curation::PairStatus::kUnverified);
  EXPECT_LE(between, (*events)[1].recorded_at_us);
  ASSERT_FALSE(before_it_existed);
  EXPECT_EQ(before_it_existed.error().code, base::ErrorCode::kNotFound);
  EXPECT_EQ(service.Load("not-a-uuid").error().code, base::ErrorCode::kNotFound);
}

TEST_F(CurationTest, ListFiltersAndPagesWithoutSkippingOrRepeating) {
  CurationService service(*store_);
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(Propose(10 + i, i % 5 == 0 ? "https://www.other.example/p" : "https://groomers.example/g"));
  ASSERT_TRUE(service.Execute(ids[1], 1, curation::VerifyPair{}, Context()));
  ASSERT_TRUE(service.Execute(ids[2], 1, curation::SetPairBreed{"Poodle"}, Context()));
  ASSERT_TRUE(service.Execute(ids[3], 1, curation::SetPairServices{{"Nail trim"}}, Context()));
  ASSERT_TRUE(service.Execute(ids[4], 1, curation::AddPairNote{"Ears Need Work"}, Context()));
  CatchUp();

  std::set<std::string> seen;
  queries::PairFilter f;
  f.limit = 7;
  int pages = 0;
  std::string last_created;
  do {
    auto page = queries::ListPairs(*pool_, f);
    ASSERT_TRUE(page) << page.error().message;
    ++pages;
    for (const auto& item : page->items) {
      EXPECT_TRUE(seen.insert(std::string(item.at("id").as_string())).second) << "repeated";
      const std::string created(item.at("created_at").as_string());
      if (!last_created.empty()) {
        EXPECT_LE(created, last_created) << "newest first";
      }
      last_created = created;
    }
    f.cursor = page->next_cursor;
  } while (!f.cursor.empty());
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 4);

  auto count = [&](queries::PairFilter filter) {
    filter.limit = 200;
    auto page = queries::ListPairs(*pool_, filter);
    EXPECT_TRUE(page) << page.error().message;
    return page ? page->items.size() : 0u;
  };
  EXPECT_EQ(count({.status = "VERIFIED"}), 1u);
  EXPECT_EQ(count({.status = "UNVERIFIED"}), 24u);
  EXPECT_EQ(count({.breed = "poodle"}), 1u);
  EXPECT_EQ(count({.breed = "Poodle"}), 1u);
  EXPECT_EQ(count({.service = "Nail trim"}), 1u);
  EXPECT_EQ(count({.source_domain = "other.example"}), 5u);
  EXPECT_EQ(count({.source_domain = "groomers.example"}), 20u);
  EXPECT_EQ(count({.analysed = false}), 25u);
  EXPECT_EQ(count({.text = "ears need"}), 1u);
  EXPECT_EQ(count({.text = "%"}), 0u) << "the text is matched literally";

  auto bad = queries::ListPairs(*pool_, {.status = "MAYBE"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("status 'MAYBE'"), std::string::npos);
  EXPECT_FALSE(queries::ListPairs(*pool_, {.limit = 0}));
  EXPECT_FALSE(queries::ListPairs(*pool_, {.min_confidence = 2}));
  auto cursor = queries::ListPairs(*pool_, {.cursor = "garbage"});
  ASSERT_FALSE(cursor);
  EXPECT_NE(cursor.error().message.find("next_cursor"), std::string::npos);
}

}  // namespace
}  // namespace furrsight::orchestrator
