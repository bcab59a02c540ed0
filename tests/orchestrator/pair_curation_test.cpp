// Pair curation as pure functions: the fold of a pair's stream and the
// decisions of every command (orchestrator/curation/pair_curation).
#include "orchestrator/curation/pair_curation.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace furrsight::orchestrator::curation {
namespace {

events::RecordedEvent E(std::int64_t version, std::string type, std::string payload, std::string at = "t") {
  events::RecordedEvent e;
  e.stream_id = "pair-6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
  e.stream_version = version;
  e.type = std::move(type);
  e.payload_json = std::move(payload);
  e.metadata_json = R"({"actor":"user:dana"})";
  e.recorded_at = std::move(at);
  return e;
}

PairState Proposed() {
  return Fold({E(1, "PairProposed",
                 R"({"before_image_sha256":"aa","after_image_sha256":"bb","before_image_url":"http://s/b.jpg",)"
                 R"("after_image_url":"http://s/a.jpg","source_url":"http://s/p","cue":"alt","similarity":0.8})",
                 "t1")});
}

TEST(PairCuration, FoldKeepsTheReadShape) {
  auto s = Proposed();
  Evolve(s, E(2, "PairAnalyzed",
              R"({"ok":true,"breed":"Poodle","services":["Full groom"],"confidence":0.9,"raw_answer":"{...}"})", "t2"));
  EXPECT_EQ(s.status, PairStatus::kUnverified);
  EXPECT_EQ(s.version, 2);
  EXPECT_EQ(s.id, "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(s.breed, "Poodle");
  EXPECT_EQ(s.breed_set_by, "model");
  EXPECT_EQ(s.services, std::vector<std::string>{"Full groom"});
  EXPECT_FALSE(s.analysis.contains("raw_answer"));
  auto j = s.ToJson();
  EXPECT_EQ(j.at("before").at("url").as_string(), "/api/v1/images/aa");
  EXPECT_EQ(j.at("status").as_string(), "UNVERIFIED");
  EXPECT_EQ(j.at("created_at").as_string(), "t1");
  EXPECT_EQ(j.at("updated_at").as_string(), "t2");
}

TEST(PairCuration, ResearcherChoicesOutliveLaterAnalyses) {
  auto s = Proposed();
  Evolve(s, E(2, "PairBreedSet", R"({"breed":"Maltese","breed_slug":"maltese"})"));
  Evolve(s, E(3, "PairServicesSet", R"({"services":["Nail trim"],"service_slugs":["nail-trim"]})"));
  Evolve(s, E(4, "PairAnalyzed", R"({"ok":true,"breed":"Poodle","services":["Full groom"]})"));
  EXPECT_EQ(s.breed, "Maltese");
  EXPECT_EQ(s.services, std::vector<std::string>{"Nail trim"});
  EXPECT_EQ(s.analysis.at("breed").as_string(), "Poodle");  // the analysis is still shown
}

TEST(PairCuration, AFailedAnalysisChangesNoLabel) {
  auto s = Proposed();
  Evolve(s, E(2, "PairAnalyzed", R"({"ok":true,"breed":"Poodle","services":["Full groom"]})"));
  Evolve(s, E(3, "PairAnalyzed", R"({"error":"model call failed"})"));
  EXPECT_EQ(s.breed, "Poodle");
  EXPECT_EQ(s.analysis.at("error").as_string(), "model call failed");
}

TEST(PairCuration, VerifyRejectAndNotes) {
  auto s = Proposed();
  auto verify = Decide(s, VerifyPair{"  crisp photos "});
  ASSERT_TRUE(verify);
  ASSERT_EQ(verify->size(), 2u);
  EXPECT_EQ((*verify)[0].type, "PairVerified");
  EXPECT_EQ((*verify)[1].type, "PairNoteAdded");
  EXPECT_EQ((*verify)[1].payload.at("note").as_string(), "crisp photos");
  Evolve(s, E(2, "PairVerified", "{}"));
  auto again = Decide(s, VerifyPair{});
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty()) << "verifying a verified pair records nothing";

  auto reject = Decide(s, RejectPair{"different dogs"});
  ASSERT_TRUE(reject);
  ASSERT_EQ(reject->size(), 1u);
  EXPECT_EQ((*reject)[0].payload.at("reason").as_string(), "different dogs");
  Evolve(s, E(3, "PairRejected", R"({"reason":"different dogs"})"));
  EXPECT_EQ(s.status, PairStatus::kRejected);
  EXPECT_TRUE(Decide(s, RejectPair{"different dogs"})->empty());
  Evolve(s, E(4, "PairNoteAdded", R"({"note":"see the ears"})", "t4"));
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0].actor, "user:dana");
  Evolve(s, E(5, "PairVerified", "{}"));
  EXPECT_EQ(s.status, PairStatus::kVerified);
  EXPECT_EQ(s.reject_reason, "");
}

TEST(PairCuration, BadInputIsRefusedNamingTheField) {
  auto s = Proposed();
  auto no_reason = Decide(s, RejectPair{"   "});
  ASSERT_FALSE(no_reason);
  EXPECT_EQ(no_reason.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_NE(no_reason.error().message.find("reason"), std::string::npos);
  EXPECT_FALSE(Decide(s, RejectPair{std::string(kMaxReasonLength + 1, 'x')}));
  EXPECT_FALSE(Decide(s, AddPairNote{""}));
  EXPECT_FALSE(Decide(s, AddPairNote{std::string(kMaxNoteLength + 1, 'x')}));
  auto no_letters = Decide(s, SetPairBreed{"!!!"});
  ASSERT_FALSE(no_letters);
  EXPECT_NE(no_letters.error().message.find("no letter or digit"), std::string::npos);
  EXPECT_FALSE(Decide(s, SetPairServices{std::vector<std::string>(kMaxServices + 1, "x")}));
  auto missing = Decide(PairState{}, VerifyPair{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, base::ErrorCode::kNotFound);
}

TEST(PairCuration, NamesCarryTheirSlugsAndDuplicatesGo) {
  auto s = Proposed();
  auto breed = Decide(s, SetPairBreed{" Shih Tzu "});
  ASSERT_TRUE(breed);
  EXPECT_EQ(boost::json::serialize((*breed)[0].payload), R"({"breed":"Shih Tzu","breed_slug":"shih-tzu"})");
  auto services = Decide(s, SetPairServices{{"Nail trim", "nail-trim", "Full Groom"}});
  ASSERT_TRUE(services);
  EXPECT_EQ(boost::json::serialize((*services)[0].payload),
            R"({"services":["Nail trim","Full Groom"],"service_slugs":["nail-trim","full-groom"]})");
  EXPECT_EQ(CommandName(PairCommand{SetPairServices{}}), "set_services");
}

}  // namespace
}  // namespace furrsight::orchestrator::curation
