// Job commands over the real event store: validation, idempotency keys,
// fencing of a worker whose lease was taken, cancel and retry.
#include "orchestrator/jobs/job_service.hpp"

#include <boost/json/parse.hpp>

#include "events/base/uuid.hpp"
#include "tests/support/store_fixture.hpp"

namespace furrsight::orchestrator::jobs {
namespace {

class JobServiceTest : public testing::StoreTest {
 protected:
  std::string Label() const override { return "job_service"; }
  CommandContext Ctx(std::int64_t now_us = 1'000'000) {
    std::string id = base::NewUuid();
    return {"user:test", id, id, "test", now_us};
  }
  SubmitOptions Scrape(std::string key = "") {
    SubmitOptions o;
    o.job_type = "SCRAPE_URL";
    o.payload = boost::json::parse(R"({"urls":["http://groomers.test/"],"max_depth":1})").as_object();
    o.max_attempts = 2;
    o.lease_ms = 1000;
    o.idempotency_key = std::move(key);
    return o;
  }
  void SetUp() override {
    StoreTest::SetUp();
    service_ = std::make_unique<JobService>(*store_);
  }
  std::unique_ptr<JobService> service_;
};

TEST_F(JobServiceTest, PayloadsAreCheckedAgainstTheirTypeWithClearMessages) {
  auto bad_type = Scrape();
  bad_type.job_type = "SCRAPE_EVERYTHING";
  auto r1 = service_->Submit(bad_type, Ctx());
  ASSERT_FALSE(r1.has_value());
  EXPECT_NE(r1.error().message.find("unknown job type 'SCRAPE_EVERYTHING'"), std::string::npos);
  auto no_urls = Scrape();
  no_urls.payload = boost::json::parse(R"({"max_depth":1})").as_object();
  auto r2 = service_->Submit(no_urls, Ctx());
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message.find("needs payload.urls or payload.queries"), std::string::npos);
  auto empty_urls = Scrape();
  empty_urls.payload = boost::json::parse(R"({"urls":[],"queries":[]})").as_object();
  auto r2b = service_->Submit(empty_urls, Ctx());
  ASSERT_FALSE(r2b.has_value()) << "empty lists are no seeds";
  EXPECT_NE(r2b.error().message.find("needs payload.urls or payload.queries"), std::string::npos);
  auto wrong = Scrape();
  wrong.payload = boost::json::parse(R"({"urls":"http://x.test"})").as_object();
  auto r3 = service_->Submit(wrong, Ctx());
  ASSERT_FALSE(r3.has_value());
  EXPECT_NE(r3.error().message.find("payload.urls must be array"), std::string::npos) << r3.error().message;
  EXPECT_EQ(CountEvents(), 0);
}

TEST_F(JobServiceTest, TheSameIdempotencyKeyGivesOneJob) {
  auto first = service_->Submit(Scrape("crawl-2026-11-22"), Ctx());
  auto second = service_->Submit(Scrape("crawl-2026-11-22"), Ctx());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(first->job_id, second->job_id);
  EXPECT_EQ(CountEvents(), 1);
  auto other = service_->Submit(Scrape("another-key"), Ctx());
  EXPECT_NE(other->job_id, first->job_id);
}

TEST_F(JobServiceTest, AWorkerWhoseLeaseWasTakenCannotComplete) {
  auto job = service_->Submit(Scrape(), Ctx(0));
  ASSERT_TRUE(job.has_value());
  auto claimed = service_->Execute(job->job_id, ClaimJob{"w1", 10}, Ctx(10));
  ASSERT_TRUE(claimed.has_value()) << claimed.error().message;
  // w1 stalls past its lease; the scheduler times it out and w2 claims it.
  const std::int64_t late = claimed->lease_expires_at_us + 1;
  ASSERT_TRUE(service_->Execute(job->job_id, TimeOutJob{late, 0.0}, Ctx(late)).has_value());
  auto state = service_->Load(job->job_id);
  auto reclaimed = service_->Execute(job->job_id, ClaimJob{"w2", state->not_before_us}, Ctx(state->not_before_us));
  ASSERT_TRUE(reclaimed.has_value()) << reclaimed.error().message;
  EXPECT_EQ(reclaimed->attempt, 2);

  auto stale = service_->Execute(job->job_id, CompleteJob{"w1", 1, {}}, Ctx());
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, base::ErrorCode::kConflict);
  ASSERT_TRUE(service_->Execute(job->job_id, CompleteJob{"w2", 2, {}}, Ctx()).has_value());
  EXPECT_EQ(service_->Load(job->job_id)->status, JobStatus::kCompleted);
}

TEST_F(JobServiceTest, ARaceBetweenTwoClaimsIsWonByOneAppend) {
  auto job = service_->Submit(Scrape(), Ctx(0));
  auto state = service_->Load(job->job_id);
  // Both decided against the same state; only the first append fits its version.
  auto events_a = Decide(*state, ClaimJob{"a", 5});
  auto events_b = Decide(*state, ClaimJob{"b", 5});
  ASSERT_TRUE(events_a && events_b);
  auto a = service_->Execute(job->job_id, ClaimJob{"a", 5}, Ctx(5));
  ASSERT_TRUE(a.has_value());
  auto b = store_->Append(JobStream(job->job_id), events::ExpectedVersion::Exactly(state->version),
                          std::vector{events::MakeEventFromMessage(JobStream(job->job_id), Payload(events_b->front()),
                                                                   {"worker:b", "c", "c", "test"}, base::NewUuid())});
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code, base::ErrorCode::kConflict);
  EXPECT_EQ(service_->Load(job->job_id)->worker, "a");
}

TEST_F(JobServiceTest, CancellingACancelledJobIsRefusedAndAppendsNothing) {
  auto job = service_->Submit(Scrape(), Ctx(0));
  auto ctx = Ctx(10);
  ASSERT_TRUE(service_->Execute(job->job_id, CancelJob{"not needed"}, ctx).has_value());
  const auto count = CountEvents();
  auto again = service_->Execute(job->job_id, CancelJob{"not needed"}, ctx);
  EXPECT_FALSE(again.has_value()) << "a cancelled job cannot be cancelled again";
  EXPECT_EQ(CountEvents(), count);
  EXPECT_EQ(service_->Load(job->job_id)->status, JobStatus::kCancelled);
}

TEST_F(JobServiceTest, RetriesThenFailsForGoodAndAnOperatorRetryRevives) {
  auto job = service_->Submit(Scrape(), Ctx(0));
  std::int64_t now = 0;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    now = std::max(now, service_->Load(job->job_id)->not_before_us);
    ASSERT_TRUE(service_->Execute(job->job_id, ClaimJob{"w1", now}, Ctx(now)).has_value());
    ASSERT_TRUE(service_->Execute(job->job_id, FailJob{"w1", attempt, "http 503", true, now, 0.5}, Ctx(now)).has_value());
  }
  auto failed = service_->Load(job->job_id);
  EXPECT_EQ(failed->status, JobStatus::kFailed);
  EXPECT_EQ(failed->last_error, "http 503");
  ASSERT_TRUE(service_->Execute(job->job_id, RetryJob{now, "site is back"}, Ctx(now)).has_value());
  EXPECT_EQ(service_->Load(job->job_id)->status, JobStatus::kWaitingRetry);
  EXPECT_FALSE(service_->Load("not-a-uuid").has_value());
}

}  // namespace
}  // namespace furrsight::orchestrator::jobs
