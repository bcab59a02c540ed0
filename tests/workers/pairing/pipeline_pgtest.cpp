// The scraping and pairing pipeline end to end, as real processes: a
// furrsight-worker running SCRAPE_URL, VALIDATE_IMAGES and PROCESS_IMAGE_PAIR,
// the scheduler (a finished scrape starts pairing), a projector — against the
// generated sample site served on loopback, whose generator knows the truth.
#include <set>

#include "tests/support/process_fixture.hpp"
#include "workers/sample_site/sample_site_server.hpp"

namespace furrsight::workers {
namespace {

using namespace std::chrono_literals;
namespace jobs = orchestrator::jobs;
namespace site = sample_site;

class PipelineTest : public testing::ProcessTest {
 protected:
  std::string Label() const override { return "pipeline"; }

  void SetUp() override {
    ProcessTest::SetUp();
    auto server = site::StartSampleSite({.seed = 7, .pages = 40, .slow_delay = 1500ms});
    ASSERT_TRUE(server.has_value()) << server.error().message;
    site_ = std::move(*server);
    blob_dir_ = testing::Services().dir / (db_->name() + "-blobs");
  }

  ChildProcess StartPipelineWorker() {
    return StartWorker("pipeline", 2,
                       {"--scrape-address-allowlist", "loopback", "--scrape-min-host-delay-ms", "0",
                        "--scrape-max-per-host", "8", "--scrape-max-image-bytes", "4194304",
                        "--scrape-total-timeout-ms", "5000", "--blob-dir", blob_dir_.string(), "--job-limits", ""},
                       "scrape,validate,pair");
  }

  // A researcher and a project, so PixCrawler's crawl_jobs and images (which need one) fill too.
  std::string CreateProject() {
    const std::string user = base::NewUuid(), project = base::NewUuid();
    auto seen = testing::TestEvent("user-" + user, "UserSeen", R"({"subject":"test|1","email":"r@furrsight.test"})");
    auto created = testing::TestEvent("project-" + project, "ProjectCreated",
                                      fmt::format(R"({{"name":"Sample site","owner_user_id":"{}"}})", user));
    EXPECT_TRUE(store_->Append("user-" + user, events::ExpectedVersion::NoStream(), std::span(&seen, 1)));
    EXPECT_TRUE(store_->Append("project-" + project, events::ExpectedVersion::NoStream(), std::span(&created, 1)));
    return project;
  }

  // Scrapes the site; waits for the scrape and the pairing it starts; returns the scrape job's id.
  std::string ScrapeAndPair(const std::string& project) {
    const std::string scrape = SubmitJob(
        {.job_type = "SCRAPE_URL",
         .payload = {{"urls", boost::json::array{site_->base_url() + "/"}}, {"max_depth", 4}, {"max_pages", 200},
                     {"max_images", 2000}},
         .project_id = project});
    const std::string pairing =
        base::UuidFromName("furrsight.job.idempotency-key", fmt::format("chain/{}/PROCESS_IMAGE_PAIR", scrape));
    EXPECT_TRUE(WaitUntil([&] { return State(scrape).status == jobs::JobStatus::kCompleted; }, 240s))
        << jobs::StatusName(State(scrape).status) << " " << State(scrape).last_error << LogOf("worker-pipeline");
    EXPECT_TRUE(WaitUntil([&] { return State(pairing).status == jobs::JobStatus::kCompleted; }, 240s))
        << jobs::StatusName(State(pairing).status) << " " << State(pairing).last_error << LogOf("worker-pipeline");
    return scrape;
  }

  boost::json::object ResultOf(const std::string& job) {
    for (const auto& r : History(job))
      if (r.type == "JobCompleted") return r.payload.at("result").as_object();
    return {};
  }

  // The proposed pairs as "page|before|after" paths (a composite: its image twice).
  std::set<std::string> ProposedPairs() {
    std::set<std::string> out;
    pqxx::connection conn(db_->AdminUrl());
    pqxx::nontransaction tx(conn);
    const std::string base = site_->base_url();
    auto path = [&](std::string url) {
      if (url.starts_with(base)) url = url.substr(base.size());
      return url.substr(0, url.find('#'));
    };
    for (const auto& row : tx.exec("SELECT payload->>'source_url', payload->>'before_image_url', "
                                   "payload->>'after_image_url' FROM events WHERE event_type = 'PairProposed'"))
      out.insert(fmt::format("{}|{}|{}", path(row[0].as<std::string>()), path(row[1].as<std::string>()),
                             path(row[2].as<std::string>())));
    return out;
  }

  std::unique_ptr<site::SampleSiteServer> site_;
  std::filesystem::path blob_dir_;
};

TEST_F(PipelineTest, TheSampleSiteIsScrapedPairedAndRescrapedWithoutDuplicates) {
  auto projector = StartProjector("");
  auto scheduler = StartScheduler();
  auto worker = StartPipelineWorker();
  const std::string project = CreateProject();
  const std::string scrape = ScrapeAndPair(project);
  const auto result = ResultOf(scrape);
  std::printf("scrape result: %s\n", boost::json::serialize(result).c_str());

  // Every hazard ends in its failure class.
  const auto& failures = result.at("failures").as_object();
  auto failed = [&](const char* cls) { return failures.contains(cls) ? failures.at(cls).to_number<std::int64_t>() : 0; };
  EXPECT_GE(failed("ssrf"), 2) << "the redirects to 169.254.169.254 and 10.0.0.1";
  EXPECT_GE(failed("robots"), 1) << "links into /private/";
  EXPECT_GE(failed("noai"), 1) << "the page that opted out";
  EXPECT_GE(failed("too_large"), 1) << "the huge image";
  EXPECT_GE(failed("not_image"), 1) << "HTML at a .jpg URL";

  // The server's own log: no request reached a URL that must never be fetched.
  std::set<std::string> requested;
  for (const auto& entry : site_->AccessLogEntries()) requested.insert(entry.path);
  for (const auto& never : site_->ground_truth().never_fetch)
    EXPECT_FALSE(requested.contains(never.url)) << never.url << " (" << never.reason << ") was requested";
  EXPECT_FALSE(requested.contains("/private/")) << "robots.txt Disallow";
  // A 429 is waited out: the same path is asked again and answered.
  std::map<std::string, std::vector<int>> statuses;
  for (const auto& entry : site_->AccessLogEntries()) statuses[entry.path].push_back(entry.status);
  int waited_out = 0;
  for (const auto& [path, s] : statuses)
    if (s.size() >= 2 && s.front() == 429 && s.back() == 200) ++waited_out;
  EXPECT_GE(waited_out, 1) << "a page answered 429 first, then 200 after its Retry-After";

  // Precision and recall of the proposed pairs against the generator's truth.
  std::set<std::string> truth;
  std::map<std::string, std::pair<int, int>> by_cue;  // cue -> (found, total)
  const auto proposed = ProposedPairs();
  for (const auto& p : site_->ground_truth().pairs) {
    const std::string key = fmt::format("{}|{}|{}", p.page_path, p.before_path, p.after_path);
    truth.insert(key);
    auto& [found, total] = by_cue[std::string(site::CueName(p.cue))];
    ++total;
    found += proposed.contains(key) ? 1 : 0;
  }
  int true_positives = 0;
  for (const auto& p : proposed) true_positives += truth.contains(p) ? 1 : 0;
  const double precision = proposed.empty() ? 0 : static_cast<double>(true_positives) / proposed.size();
  const double recall = truth.empty() ? 0 : static_cast<double>(true_positives) / truth.size();
  std::printf("pairing: %zu proposed, %zu true, precision %.3f, recall %.3f\n", proposed.size(), truth.size(),
              precision, recall);
  for (const auto& [cue, n] : by_cue) std::printf("  %-18s %d of %d found\n", cue.c_str(), n.first, n.second);
  for (const auto& p : proposed)
    if (!truth.contains(p)) std::printf("  false positive: %s\n", p.c_str());
  for (const auto& t : truth)
    if (!proposed.contains(t)) std::printf("  missed: %s\n", t.c_str());
  const std::string pairing =
      base::UuidFromName("furrsight.job.idempotency-key", fmt::format("chain/{}/PROCESS_IMAGE_PAIR", scrape));
  std::printf("pairing result: %s\n", boost::json::serialize(ResultOf(pairing)).c_str());
  EXPECT_GE(precision, 0.95);
  EXPECT_GE(recall, 0.9);

  // Scraping the same site again creates no new images or pairs.
  const long long images = CountType("ImageDownloaded"), pairs = CountType("PairProposed");
  ScrapeAndPair(project);
  EXPECT_EQ(CountType("ImageDownloaded"), images) << "no new image";
  EXPECT_EQ(CountType("PairProposed"), pairs) << "no new pair";
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM grooming_pairs") == pairs; }, 30s))
      << "the pairs are in the read model";
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM images") == images; }, 30s))
      << "PixCrawler's images read model holds every image (halves of composites included): "
      << Count("SELECT count(*) FROM images") << " of " << images;
  EXPECT_EQ(Count("SELECT count(*) FROM images WHERE validation_status = 'valid'"), CountType("ImageValidated"));
}

}  // namespace
}  // namespace furrsight::workers
