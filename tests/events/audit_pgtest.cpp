// The audit seal against a real PostgreSQL: a chain that holds, a tampered
// event named exactly, and the CLI's exit codes.
#include <fstream>
#include <thread>

#include "events/store/audit_seal.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::events {
namespace {

using testing::TestEvent;

class AuditTest : public testing::StoreTest {
 protected:
  std::string Label() const override { return "audit"; }

  std::vector<std::string> AppendMany(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto e = TestEvent("pair-" + std::to_string(i % 5), "PairNoteAdded", R"({"note":"n)" + std::to_string(i) + "\"}");
      EXPECT_TRUE(store_->Append(e.stream_id, ExpectedVersion::Any(), std::vector{e}).has_value());
      ids.push_back(e.event_id);
    }
    WaitReadable();
    return ids;
  }

  // As a superuser: switch the trigger off, change one payload, switch it on.
  void Tamper(const std::string& event_id) {
    pqxx::connection conn(db_->AdminUrl());
    pqxx::work tx(conn);
    tx.exec("ALTER TABLE events DISABLE TRIGGER events_append_only");
    tx.exec_params("UPDATE events SET payload = '{\"note\":\"forged\"}' WHERE event_id = $1", event_id);
    tx.exec("ALTER TABLE events ENABLE TRIGGER events_append_only");
    tx.commit();
  }
};

TEST_F(AuditTest, SealedChainVerifiesAndHeadMatches) {
  AppendMany(120);
  AuditLog audit(*pool_);
  auto sealed = audit.SealPending(50);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message;
  EXPECT_EQ(*sealed, 120);
  auto verified = audit.Verify(40);
  ASSERT_TRUE(verified.has_value()) << verified.error().message;
  EXPECT_FALSE(verified->mismatch.has_value()) << verified->mismatch->reason;
  EXPECT_EQ(verified->checked, 120);
  auto head = audit.Head();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->sealed, 120);
  EXPECT_EQ(head->unsealed, 0);
  EXPECT_EQ(head->head_hash, verified->head_hash);
  EXPECT_EQ(head->head_hash.size(), 64u);
}

TEST_F(AuditTest, SealingIsIncrementalAndContiguous) {
  AuditLog audit(*pool_);
  AppendMany(10);
  ASSERT_EQ(*audit.SealPending(), 10);
  auto first_head = audit.Head()->head_hash;
  AppendMany(7);
  EXPECT_EQ(audit.Head()->unsealed, 7);
  ASSERT_EQ(*audit.SealPending(), 7);
  EXPECT_EQ(*audit.SealPending(), 0) << "nothing left to seal";
  auto verified = audit.Verify();
  ASSERT_TRUE(verified.has_value());
  EXPECT_FALSE(verified->mismatch.has_value());
  EXPECT_EQ(verified->checked, 17);
  EXPECT_NE(verified->head_hash, first_head);
}

TEST_F(AuditTest, ConcurrentSealersSealEachEventOnce) {
  AppendMany(200);
  std::atomic<std::int64_t> total{0};
  std::vector<std::thread> sealers;
  for (int i = 0; i < 3; ++i)
    sealers.emplace_back([&] {
      AuditLog audit(*pool_);
      for (int round = 0; round < 20; ++round) {
        auto n = audit.SealPending(30);
        ASSERT_TRUE(n.has_value()) << n.error().message;
        total += *n;
      }
    });
  for (auto& t : sealers) t.join();
  EXPECT_EQ(total.load(), 200);
  AuditLog audit(*pool_);
  EXPECT_FALSE(audit.Verify()->mismatch.has_value());
}

TEST_F(AuditTest, VerifyNamesExactlyTheTamperedEvent) {
  auto ids = AppendMany(60);
  AuditLog audit(*pool_);
  ASSERT_EQ(*audit.SealPending(), 60);
  Tamper(ids[37]);
  auto verified = audit.Verify(16);
  ASSERT_TRUE(verified.has_value()) << verified.error().message;
  ASSERT_TRUE(verified->mismatch.has_value()) << "tampering went unnoticed";
  EXPECT_EQ(verified->mismatch->event_id, ids[37]);
  EXPECT_EQ(verified->mismatch->audit_seq, 38);
  EXPECT_EQ(verified->checked, 37);
}

TEST_F(AuditTest, SealTableIsAppendOnly) {
  AppendMany(3);
  AuditLog audit(*pool_);
  ASSERT_EQ(*audit.SealPending(), 3);
  for (const std::string& url : {db_->ServiceUrl(), db_->AdminUrl()}) {
    for (const char* sql : {"UPDATE audit_seal SET chain_hash = event_hash", "DELETE FROM audit_seal",
                            "TRUNCATE audit_seal"}) {
      pqxx::connection conn(url);
      pqxx::work tx(conn);
      EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
    }
  }
}

TEST_F(AuditTest, CliVerifyExitsZeroWhenIntactAndNamesTheEventWhenNot) {
  auto ids = AppendMany(12);
  auto [seal_code, seal_out] = Cli({"audit", "seal"});
  ASSERT_EQ(seal_code, 0) << seal_out;
  EXPECT_NE(seal_out.find("sealed 12 new events"), std::string::npos) << seal_out;
  auto [head_code, head_out] = Cli({"audit", "head"});
  ASSERT_EQ(head_code, 0);
  const std::string head_hash = head_out.substr(head_out.rfind(' ') + 1, 64);
  auto [ok_code, ok_out] = Cli({"audit", "verify", "--expect-head", head_hash});
  EXPECT_EQ(ok_code, 0) << ok_out;
  EXPECT_NE(ok_out.find("OK 12 events verified"), std::string::npos) << ok_out;

  Tamper(ids[4]);
  auto [bad_code, bad_out] = Cli({"audit", "verify"});
  EXPECT_EQ(bad_code, 1) << bad_out;
  EXPECT_NE(bad_out.find(ids[4]), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("FAILED at audit_seq 5"), std::string::npos) << bad_out;
}

TEST_F(AuditTest, CliEventsShowAndTailPrintTheLog) {
  ASSERT_TRUE(store_->Append("pair-cli", ExpectedVersion::Any(),
                             std::vector{TestEvent("pair-cli", "PairProposed"), TestEvent("pair-cli", "PairVerified")}));
  WaitReadable();  // `events tail` reads below the oldest open write transaction (another test's may be open)
  auto [show_code, show_out] = Cli({"events", "show", "pair-cli"});
  EXPECT_EQ(show_code, 0) << show_out;
  EXPECT_NE(show_out.find("pair-cli@2  PairVerified  by user:test"), std::string::npos) << show_out;
  auto [tail_code, tail_out] = Cli({"events", "tail", "--type", "PairVerified", "--json"});
  EXPECT_EQ(tail_code, 0) << tail_out;
  EXPECT_NE(tail_out.find("\"type\":\"PairVerified\""), std::string::npos) << tail_out;
  EXPECT_EQ(tail_out.find("PairProposed"), std::string::npos) << tail_out;
  auto [missing_code, missing_out] = Cli({"events", "show", "pair-nothing"});
  EXPECT_EQ(missing_code, 1);
  EXPECT_NE(missing_out.find("has no events"), std::string::npos);
  auto [bad_code, bad_out] = Cli({"events", "tail", "--last", "zero"});
  EXPECT_EQ(bad_code, 1);
  EXPECT_NE(bad_out.find("--last must be a positive number"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace furrsight::events
