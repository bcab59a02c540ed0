// The PixCrawler read model against a real PostgreSQL: the seed schema
// (columns, defaults, foreign keys with their cascades, named indexes), each
// mapping of docs/read-models.md on a scripted history, and live tables equal
// to a fresh rebuild row for row on a generated one, for both projections.
#include <set>
#include <thread>

#include "events/base/sha256.hpp"
#include "events/catalog/codec.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/pixcrawler/pixcrawler_projection.hpp"
#include "projections/projector.hpp"
#include "tests/support/history_generator.hpp"
#include "tests/support/projection_fixture.hpp"

namespace furrsight::projections {
namespace {

using testing::TestEvent;
using namespace std::chrono_literals;

// The scripted history's ids.
const std::string kAlice = "a11ce000-0000-4000-8000-000000000001";
const std::string kBob = "b0b00000-0000-4000-8000-000000000002";     // an export requester before his UserSeen
const std::string kCarol = "c0000000-0000-4000-8000-000000000003";   // a project owner never seen
const std::string kDave = "d0000000-0000-4000-8000-000000000004";    // later signs in with Alice's email
const std::string kZoe = "e0000000-0000-4000-8000-000000000005";     // an actor with no profile at all
const std::string kProject = "5a1d3c7e-0000-4000-8000-000000000011";
const std::string kCarolsProject = "5a1d3c7e-0000-4000-8000-000000000012";
const std::string kCrawl = "0b6f5c1e-0000-4000-8000-000000000021";
const std::string kChunk[] = {"0b6f5c1e-0000-4000-8000-000000000022", "0b6f5c1e-0000-4000-8000-000000000023",
                              "0b6f5c1e-0000-4000-8000-000000000024"};
const std::string kValidation = "0b6f5c1e-0000-4000-8000-000000000031";
const std::string kExport = "0b6f5c1e-0000-4000-8000-000000000041";
const std::string kKeyExport = "0b6f5c1e-0000-4000-8000-000000000042";
const std::string kSchema = "pixcrawler_g1";

class PixCrawlerTest : public testing::ProjectionTest {
 protected:
  std::string Label() const override { return "pixcrawler"; }





  std::string One(const std::string& sql) {
    auto r = Query(sql);
    if (r.empty() || r[0][0].is_null()) return "<null>";
    return r[0][0].as<std::string>();
  }

  void Append(const std::string& stream, const std::string& type, const std::string& payload,
              const std::string& actor) {
    auto e = TestEvent(stream, type, payload);
    e.metadata.actor = actor;
    auto r = store_->Append(stream, events::ExpectedVersion::Any(), std::vector{e});
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  // Applies what was appended so far to the live PixCrawler generation.
  void CatchUp() {
    WaitReadable();
    Generation live = Live(pixcrawler_);
    Projector projector(db_->AdminUrl(), *store_, nullptr, pixcrawler_);
    auto applied = projector.CatchUp(live.generation);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
  }

  static std::string Job(const std::string& id) { return "job-" + id; }
  static std::string User(const std::string& id) { return "user:" + id; }

  // Up to the moment a chunk failed once (it will be retried).
  void AppendCrawlStart() {
    Append("user-" + kAlice, "UserSeen",
           R"({"subject":"auth0|alice","email":"alice@furrsight.test","full_name":"Alice","role":"curator",)"
           R"("avatar_url":"https://avatars.test/alice.png","issuer":"https://auth.test/"})",
           User(kAlice));
    Append("project-" + kProject, "ProjectCreated",
           R"({"name":"Spring set","description":"small breeds","owner_user_id":")" + kAlice + R"("})", User(kAlice));
    Append("project-" + kCarolsProject, "ProjectCreated", R"({"owner_user_id":")" + kCarol + R"("})", User(kCarol));
    Append("project-" + kProject, "ProjectRenamed", R"({"name":"Small breeds"})", User(kAlice));
    Append("project-" + kCarolsProject, "ProjectArchived", "{}", User(kCarol));
    Append(Job(kCrawl), "JobRequested",
           R"({"job_type":"SCRAPE_URL","payload":{"name":"Poodles","keywords":["poodle","groom"],"max_images":300},)"
           R"("project_id":")" + kProject + R"(","requested_by":"user:)" + kAlice + R"("})",
           User(kAlice));
    Append(Job(kCrawl), "JobStarted", R"({"worker":"w1","attempt":1})", "worker:crawl");
    Append(Job(kCrawl), "JobChildrenPlanned",
           R"({"child_job_ids":[")" + kChunk[0] + R"(",")" + kChunk[1] + R"(",")" + kChunk[2] + R"("],"total":3})",
           "worker:crawl");
    for (const auto& chunk : kChunk)
      Append(Job(chunk), "JobRequested",
             R"({"job_type":"SCRAPE_URL","payload":{"keyword":"poodle"},"parent_job_id":")" + kCrawl +
                 R"(","project_id":")" + kProject + R"(","requested_by":"system:scheduler"})",
             "system:scheduler");
    for (const auto& chunk : kChunk) Append(Job(chunk), "JobStarted", R"({"worker":"w2","attempt":1})", "worker:crawl");
    Append(Job(kChunk[0]), "JobProgressed",
           R"({"attempt":1,"progress":50,"counters":{"images_found":"10","images_downloaded":"8"}})", "worker:crawl");
    Append(Job(kChunk[1]), "JobFailed", R"({"attempt":1,"error":"http 503","retryable":true})", "worker:crawl");
  }

  void AppendCrawlEnd() {
    Append(Job(kChunk[0]), "JobCompleted",
           R"({"attempt":1,"result":{"images_found":10,"images_downloaded":9,"images_valid":7}})", "worker:crawl");
    Append(Job(kChunk[1]), "JobRetryScheduled", R"({"attempt":1,"next_attempt":2,"not_before_us":"1790000000000000"})",
           "system:scheduler");
    Append(Job(kChunk[1]), "JobStarted", R"({"worker":"w3","attempt":2})", "worker:crawl");
    Append(Job(kChunk[1]), "JobFailed", R"({"attempt":2,"error":"blocked by robots.txt","final":true})", "worker:crawl");
    Append(Job(kChunk[2]), "JobProgressed",
           R"({"attempt":1,"counters":{"images_found":"5","images_downloaded":"5","images_valid":"4"}})", "worker:crawl");
    Append(Job(kChunk[2]), "JobCompleted", R"({"attempt":1})", "worker:crawl");
    Append(Job(kCrawl), "JobProgressed", R"({"attempt":1,"progress":10,"counters":{"images_found":"12"}})",
           "worker:crawl");
    // Images: found by a chunk, by the crawl job itself, and by a job the model does not know.
    Append("image-" + Sha("one"), "ImageDownloaded",
           R"({"url":"https://img.test/a/bella.jpg?w=400#top","page_url":"https://groomers.test/g","width":1200,)"
           R"("height":900,"file_size":"248133","format":"jpeg","storage_key":"images/one.jpg","sha256":")" +
               Sha("one") + R"(","crawl_job_id":")" + kChunk[0] + R"("})",
           "worker:crawl");
    Append("image-" + Sha("two"), "ImageDownloaded",
           R"({"url":"https://img.test/","format":"png","sha256":")" + Sha("two") + R"(","crawl_job_id":")" + kCrawl +
               R"("})",
           "worker:crawl");
    Append("image-" + Sha("three"), "ImageDownloaded",
           R"({"url":"https://img.test/c.jpg","crawl_job_id":"0b6f5c1e-0000-4000-8000-000000000099"})", "worker:crawl");
    Append("image-" + Sha("one"), "ImageValidated", R"({"rules":["min_size"]})", "worker:validate");
    Append("image-" + Sha("two"), "ImageRejected", R"({"rule":"blur","value":12.5,"threshold":100})", User(kAlice));
    Append(Job(kCrawl), "JobCompleted", R"({"attempt":1})", "worker:crawl");
    // A crawl job in a project nobody created: no row.
    Append(Job("0b6f5c1e-0000-4000-8000-000000000051"), "JobRequested",
           R"({"job_type":"SCRAPE_URL","project_id":"no-such-project","requested_by":"user:)" + kAlice + R"("})",
           User(kAlice));
  }

  void AppendValidationAndExports() {
    Append(Job(kValidation), "JobRequested",
           R"({"job_type":"VALIDATE_IMAGES","payload":{"crawl_job_id":")" + kCrawl +
               R"(","name":"Check sizes","validation_rules":{"min_width":100}},"requested_by":"user:)" + kAlice + R"("})",
           User(kAlice));
    Append(Job(kValidation), "JobStarted", R"({"worker":"v1","attempt":1})", "worker:validate");
    Append(Job(kValidation), "JobProgressed",
           R"({"attempt":1,"progress":60,"counters":{"images_total":"2","images_valid":"1","images_invalid":"1"}})",
           "worker:validate");
    Append(Job(kValidation), "JobCompleted", R"({"attempt":1,"result":{"images_total":2}})", "worker:validate");
    // For a crawl job the model does not know: no row.
    Append(Job("0b6f5c1e-0000-4000-8000-000000000032"), "JobRequested",
           R"({"job_type":"VALIDATE_IMAGES","payload":{"crawl_job_id":"0b6f5c1e-0000-4000-8000-000000000099"}})",
           User(kAlice));
    Append(Job(kExport), "JobRequested",
           R"({"job_type":"EXPORT_DATASET","payload":{"crawl_job_id":")" + kCrawl +
               R"(","export_options":{"include_metadata":true}},"requested_by":"user:)" + kBob + R"("})",
           User(kBob));
    Append(Job(kExport), "JobStarted", R"({"worker":"x1","attempt":1})", "worker:export");
    Append(Job(kExport), "JobProgressed", R"({"attempt":1,"counters":{"images_total":"2","images_exported":"1"}})",
           "worker:export");
    Append(Job(kExport), "JobCompleted",
           R"({"attempt":1,"result":{"images_exported":2,"file_size":"52428800","download_url":"https://exports.test/1.zip",)"
           R"("expires_at_us":"1790000000000000"}})",
           "worker:export");
    Append(Job(kKeyExport), "JobRequested",
           R"({"job_type":"EXPORT_DATASET","payload":{"crawl_job_id":")" + kCrawl +
               R"(","format":"tar"},"requested_by":"apikey:nightly"})",
           "apikey:nightly");
    Append("user-" + kBob, "UserSeen", R"({"email":"bob@furrsight.test","full_name":"Bob"})", User(kBob));
    Append("user-" + kDave, "UserSeen", R"({"email":"alice@furrsight.test","full_name":"Dave","role":"admin"})",
           User(kDave));
    Append("pair-6a1b9c1e-0000-4000-8000-000000000001", "PairNoteAdded", R"({"note":"fluffy"})", User(kZoe));
    Append("pair-6a1b9c1e-0000-4000-8000-000000000001", "PairNoteAdded", R"({"note":"not a user"})", "user:test");
  }

  void AppendScript() {
    AppendCrawlStart();
    AppendCrawlEnd();
    AppendValidationAndExports();
  }

  static std::string Sha(const std::string& what) { return base::Sha256Hex(what); }

  PixCrawlerProjection pixcrawler_;
  FurrSightProjection furrsight_;
};

TEST_F(PixCrawlerTest, SeedColumnsDefaultsAndNullabilityAreAsSpecified) {
  Live(pixcrawler_);
  auto cols = Query(fmt::format(
      "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' || "
      "coalesce(character_maximum_length::text, '') || ':' || coalesce(column_default, '') "
      "FROM information_schema.columns WHERE table_schema = '{}' ORDER BY 1",
      kSchema));
  std::set<std::string> have;
  for (const auto& r : cols) have.insert(r[0].as<std::string>());
  const std::string tz = "timestamp with time zone";
  const std::string vc = "character varying";
  std::vector<std::string> expected = {
      "profiles.id:uuid:NO::", "profiles.email:" + vc + ":NO:255:", "profiles.full_name:" + vc + ":YES:100:",
      "profiles.avatar_url:text:YES::", "profiles.role:" + vc + ":NO:20:'user'::character varying",
      "projects.name:" + vc + ":NO:100:", "projects.description:text:YES::", "projects.user_id:uuid:NO::",
      "projects.status:" + vc + ":NO:20:'active'::character varying",
      "crawl_jobs.project_id:integer:NO::", "crawl_jobs.name:" + vc + ":NO:100:", "crawl_jobs.keywords:jsonb:NO::",
      "crawl_jobs.max_images:integer:NO::1000", "crawl_jobs.status:" + vc + ":NO:20:'pending'::character varying",
      "crawl_jobs.task_ids:jsonb:NO::'[]'::jsonb",
      "images.crawl_job_id:integer:NO::", "images.original_url:text:NO::", "images.filename:" + vc + ":NO:255:",
      "images.storage_url:text:YES::", "images.width:integer:YES::", "images.height:integer:YES::",
      "images.file_size:integer:YES::", "images.format:" + vc + ":YES:10:",
      "activity_logs.user_id:uuid:YES::", "activity_logs.action:text:NO::",
      "activity_logs.resource_type:" + vc + ":YES:50:", "activity_logs.resource_id:" + vc + ":YES:50:",
      "activity_logs.metadata_:jsonb:YES::", "activity_logs.timestamp:" + tz + ":NO::now()",
      "validation_jobs.crawl_job_id:integer:NO::", "validation_jobs.name:" + vc + ":NO:100:",
      "validation_jobs.status:" + vc + ":NO:20:'pending'::character varying",
      "validation_jobs.validation_rules:jsonb:NO::'{}'::jsonb", "validation_jobs.error_message:text:YES::",
      "export_jobs.crawl_job_id:integer:NO::", "export_jobs.user_id:uuid:NO::", "export_jobs.name:" + vc + ":NO:100:",
      "export_jobs.status:" + vc + ":NO:20:'pending'::character varying",
      "export_jobs.format:" + vc + ":NO:20:'zip'::character varying", "export_jobs.file_size:integer:YES::",
      "export_jobs.download_url:text:YES::", "export_jobs.export_options:jsonb:NO::'{}'::jsonb",
      "export_jobs.error_message:text:YES::"};
  for (const char* c : {"progress", "total_images", "downloaded_images", "valid_images", "total_chunks",
                        "active_chunks", "completed_chunks", "failed_chunks"})
    expected.push_back(fmt::format("crawl_jobs.{}:integer:NO::0", c));
  for (const char* c : {"progress", "total_images", "validated_images", "invalid_images"})
    expected.push_back(fmt::format("validation_jobs.{}:integer:NO::0", c));
  for (const char* c : {"progress", "total_images", "exported_images"})
    expected.push_back(fmt::format("export_jobs.{}:integer:NO::0", c));
  for (const char* t : {"profiles", "projects", "crawl_jobs", "validation_jobs", "export_jobs"})
    for (const char* c : {"created_at", "updated_at"}) expected.push_back(fmt::format("{}.{}:{}:NO::now()", t, c, tz));
  for (const char* t : {"crawl_jobs", "validation_jobs", "export_jobs"})
    for (const char* c : {"started_at", "completed_at"}) expected.push_back(fmt::format("{}.{}:{}:YES::", t, c, tz));
  expected.push_back("export_jobs.expires_at:" + tz + ":YES::");
  for (const auto& e : expected) EXPECT_TRUE(have.contains(e)) << e;

  // Integer primary keys are the seed's AUTO_INCREMENT (serial), though handlers give ids explicitly.
  for (const char* t : {"projects", "crawl_jobs", "images", "activity_logs", "validation_jobs", "export_jobs"}) {
    auto id = Query(fmt::format("SELECT data_type, is_nullable, column_default FROM information_schema.columns "
                                "WHERE table_schema = '{}' AND table_name = '{}' AND column_name = 'id'",
                                kSchema, t));
    ASSERT_EQ(id.size(), 1u) << t;
    EXPECT_EQ(id[0][0].as<std::string>(), "integer") << t;
    EXPECT_NE(id[0][2].c_str(), nullptr);
    EXPECT_NE(std::string(id[0][2].c_str()).find("nextval"), std::string::npos) << t;
  }
}

TEST_F(PixCrawlerTest, ForeignKeysCascadeAsTheSeedSays) {
  Live(pixcrawler_);
  auto fks = Query(fmt::format(
                       "SELECT con.conname || ':' || rel.relname || '.' || att.attname || '->' || frel.relname || "
                       "':' || con.confdeltype::text "
                       "FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid "
                       "JOIN pg_namespace n ON n.oid = rel.relnamespace JOIN pg_class frel ON frel.oid = con.confrelid "
                       "JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1] "
                       "WHERE n.nspname = '{}' AND con.contype = 'f'",
                       kSchema),
                   /*as_owner=*/true);
  std::set<std::string> have;
  for (const auto& r : fks) have.insert(r[0].as<std::string>());
  // confdeltype: c = CASCADE, n = SET NULL (seed 002 "Cascade Deletes", seed 004 "Foreign Keys").
  const std::set<std::string> expected = {
      "fk_projects_user_id:projects.user_id->profiles:c",
      "fk_crawl_jobs_project_id:crawl_jobs.project_id->projects:c",
      "fk_images_crawl_job_id:images.crawl_job_id->crawl_jobs:c",
      "fk_activity_logs_user_id:activity_logs.user_id->profiles:n",
      "fk_validation_jobs_crawl_job_id:validation_jobs.crawl_job_id->crawl_jobs:c",
      "fk_export_jobs_crawl_job_id:export_jobs.crawl_job_id->crawl_jobs:c",
      "fk_export_jobs_user_id:export_jobs.user_id->profiles:c",
      "fk_job_chunks_job_id:job_chunks.job_id->crawl_jobs:c",  // seed 003's JobChunk
  };
  EXPECT_EQ(have, expected);
}

TEST_F(PixCrawlerTest, EverySeedIndexExistsByName) {
  Live(pixcrawler_);
  auto rows = Query(fmt::format("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{}'", kSchema), true);
  std::map<std::string, std::string> have;
  for (const auto& r : rows) have[r[0].as<std::string>()] = r[1].as<std::string>();
  const std::map<std::string, std::string> expected = {
      {"ix_profiles_email", "profiles USING btree (email)"},
      {"ix_project_user_id", "projects USING btree (user_id)"},
      {"ix_crawl_job_status", "crawl_jobs USING btree (status)"},
      {"ix_crawl_jobs_project_id", "crawl_jobs USING btree (project_id)"},
      {"ix_crawl_job_project_status", "crawl_jobs USING btree (project_id, status)"},
      {"ix_image_crawl_job_id", "images USING btree (crawl_job_id)"},
      {"ix_activity_log_user_id", "activity_logs USING btree (user_id)"},
      {"ix_activity_log_timestamp", "activity_logs USING btree (\"timestamp\")"},
      {"ix_validation_job_status", "validation_jobs USING btree (status)"},
      {"ix_validation_job_crawl_job_id", "validation_jobs USING btree (crawl_job_id)"},
      {"ix_export_job_status", "export_jobs USING btree (status)"},
      {"ix_export_job_user_id", "export_jobs USING btree (user_id)"},
      {"ix_export_job_crawl_job_id", "export_jobs USING btree (crawl_job_id)"},
  };
  for (const auto& [name, on] : expected) {
    ASSERT_TRUE(have.contains(name)) << name;
    EXPECT_TRUE(have[name].ends_with(fmt::format("{}.{}", kSchema, on))) << have[name];
  }
  EXPECT_TRUE(have["ix_profiles_email"].starts_with("CREATE UNIQUE INDEX")) << "profiles.email is UNIQUE";
}

TEST_F(PixCrawlerTest, ProfilesAndProjectsFromIdentityEvents) {
  AppendScript();
  CatchUp();
  auto alice = Query("SELECT email, full_name, role, avatar_url, placeholder, subject FROM profiles WHERE id = '" +
                     kAlice + "'");
  ASSERT_EQ(alice.size(), 1u);
  EXPECT_EQ(alice[0][0].as<std::string>(), kAlice + "@unknown") << "Dave signed in with her email later";
  EXPECT_EQ(alice[0][1].as<std::string>(), "Alice");
  EXPECT_EQ(alice[0][2].as<std::string>(), "curator");
  EXPECT_EQ(alice[0][3].as<std::string>(), "https://avatars.test/alice.png");
  EXPECT_FALSE(alice[0][4].as<bool>());
  EXPECT_EQ(alice[0][5].as<std::string>(), "auth0|alice");
  EXPECT_EQ(One("SELECT email || ' ' || role FROM profiles WHERE id = '" + kDave + "'"), "alice@furrsight.test admin");
  EXPECT_EQ(One("SELECT email || ' ' || role || ' ' || placeholder FROM profiles WHERE id = '" + kBob + "'"),
            "bob@furrsight.test user false")
      << "Bob's placeholder (from his export) filled in by his UserSeen; no role: 'user'";
  EXPECT_EQ(One("SELECT email || ' ' || role || ' ' || placeholder FROM profiles WHERE id = '" + kCarol + "'"),
            kCarol + "@unknown user true")
      << "a project owner never seen is a placeholder";
  EXPECT_EQ(One("SELECT count(*) FROM profiles"), "4") << "Zoe acted but was never referenced: no profile";

  auto projects = Query("SELECT id, name, description, user_id::text, status, stream_key FROM projects ORDER BY id");
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0][0].as<int>(), 1);
  EXPECT_EQ(projects[0][1].as<std::string>(), "Small breeds");
  EXPECT_EQ(projects[0][2].as<std::string>(), "small breeds");
  EXPECT_EQ(projects[0][3].as<std::string>(), kAlice);
  EXPECT_EQ(projects[0][4].as<std::string>(), "active");
  EXPECT_EQ(projects[0][5].as<std::string>(), kProject);
  EXPECT_EQ(projects[1][0].as<int>(), 2);
  EXPECT_EQ(projects[1][1].as<std::string>(), "Untitled project");
  EXPECT_EQ(projects[1][3].as<std::string>(), kCarol);
  EXPECT_EQ(projects[1][4].as<std::string>(), "archived");
}

TEST_F(PixCrawlerTest, CrawlJobCountsItsChunksAndTheirImages) {
  AppendCrawlStart();
  CatchUp();
  const std::string cols =
      "SELECT status, total_chunks, active_chunks, completed_chunks, failed_chunks, total_images, downloaded_images, "
      "valid_images, progress, task_ids::text, project_id, name, keywords::text, max_images, started_at IS NOT NULL, "
      "completed_at IS NOT NULL, job_id::text FROM crawl_jobs";
  auto running = Query(cols);
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0][0].as<std::string>(), "running");
  EXPECT_EQ(running[0][1].as<int>(), 3);
  EXPECT_EQ(running[0][2].as<int>(), 2) << "the chunk that failed once waits for its retry";
  EXPECT_EQ(running[0][3].as<int>(), 0);
  EXPECT_EQ(running[0][4].as<int>(), 0);
  EXPECT_EQ(running[0][5].as<int>(), 10);
  EXPECT_EQ(running[0][6].as<int>(), 8);
  EXPECT_EQ(running[0][9].as<std::string>(),
            fmt::format(R"(["{}", "{}", "{}"])", kChunk[0], kChunk[1], kChunk[2]));
  EXPECT_EQ(running[0][10].as<int>(), 1);
  EXPECT_EQ(running[0][11].as<std::string>(), "Poodles");
  EXPECT_EQ(running[0][12].as<std::string>(), R"(["poodle", "groom"])");
  EXPECT_EQ(running[0][13].as<int>(), 300);
  EXPECT_TRUE(running[0][14].as<bool>());
  EXPECT_FALSE(running[0][15].as<bool>());
  EXPECT_EQ(running[0][16].as<std::string>(), kCrawl);
  EXPECT_EQ(One("SELECT string_agg(status, ',' ORDER BY chunk_index) FROM job_chunks"), "running,pending,running");

  AppendCrawlEnd();
  CatchUp();
  auto done = Query(cols);
  ASSERT_EQ(done.size(), 1u) << "a crawl job whose project does not exist has no row";
  EXPECT_EQ(done[0][0].as<std::string>(), "completed");
  EXPECT_EQ(done[0][1].as<int>(), 3);
  EXPECT_EQ(done[0][2].as<int>(), 0);
  EXPECT_EQ(done[0][3].as<int>(), 2);
  EXPECT_EQ(done[0][4].as<int>(), 1) << "the chunk that failed for good";
  EXPECT_EQ(done[0][5].as<int>(), 15) << "the chunks' 10 + 5 beat the job's own 12";
  EXPECT_EQ(done[0][6].as<int>(), 14);
  EXPECT_EQ(done[0][7].as<int>(), 11);
  EXPECT_EQ(done[0][8].as<int>(), 100);
  EXPECT_TRUE(done[0][15].as<bool>());
  EXPECT_EQ(One("SELECT string_agg(status || '/' || coalesce(error_message, '-'), ',' ORDER BY chunk_index) "
                "FROM job_chunks"),
            "completed/-,failed/blocked by robots.txt,completed/-");

  auto images = Query("SELECT crawl_job_id, original_url, filename, storage_url, width, height, file_size, format, "
                      "validation_status, rejected_rule FROM images ORDER BY id");
  ASSERT_EQ(images.size(), 2u) << "an image of an unknown crawl job has no row";
  EXPECT_EQ(images[0][0].as<int>(), 1) << "found by a chunk: belongs to the chunk's crawl job";
  EXPECT_EQ(images[0][1].as<std::string>(), "https://img.test/a/bella.jpg?w=400#top");
  EXPECT_EQ(images[0][2].as<std::string>(), "bella.jpg");
  EXPECT_EQ(images[0][3].as<std::string>(), "images/one.jpg");
  EXPECT_EQ(images[0][4].as<int>(), 1200);
  EXPECT_EQ(images[0][5].as<int>(), 900);
  EXPECT_EQ(images[0][6].as<int>(), 248133);
  EXPECT_EQ(images[0][7].as<std::string>(), "jpeg");
  EXPECT_EQ(images[0][8].as<std::string>(), "valid");
  EXPECT_EQ(images[1][2].as<std::string>(), Sha("two") + ".png") << "no file name in the URL: the hash";
  EXPECT_TRUE(images[1][3].is_null());
  EXPECT_TRUE(images[1][4].is_null());
  EXPECT_EQ(images[1][8].as<std::string>(), "rejected");
  EXPECT_EQ(images[1][9].as<std::string>(), "blur");
}

TEST_F(PixCrawlerTest, ValidationAndExportJobsFollowTheirLifecycle) {
  AppendScript();
  CatchUp();
  auto v = Query("SELECT crawl_job_id, name, status, progress, total_images, validated_images, invalid_images, "
                 "validation_rules::text, completed_at IS NOT NULL FROM validation_jobs");
  ASSERT_EQ(v.size(), 1u) << "a validation of an unknown crawl job has no row";
  EXPECT_EQ(v[0][0].as<int>(), 1);
  EXPECT_EQ(v[0][1].as<std::string>(), "Check sizes");
  EXPECT_EQ(v[0][2].as<std::string>(), "completed");
  EXPECT_EQ(v[0][3].as<int>(), 100);
  EXPECT_EQ(v[0][4].as<int>(), 2);
  EXPECT_EQ(v[0][5].as<int>(), 1);
  EXPECT_EQ(v[0][6].as<int>(), 1);
  EXPECT_EQ(v[0][7].as<std::string>(), R"({"min_width": 100})");
  EXPECT_TRUE(v[0][8].as<bool>());

  auto x = Query("SELECT crawl_job_id, user_id::text, name, status, progress, format, total_images, exported_images, "
                 "file_size, download_url, export_options::text, extract(epoch FROM expires_at)::bigint, "
                 "started_at IS NOT NULL FROM export_jobs ORDER BY id");
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0][0].as<int>(), 1);
  EXPECT_EQ(x[0][1].as<std::string>(), kBob);
  EXPECT_EQ(x[0][2].as<std::string>(), "Export of Poodles");
  EXPECT_EQ(x[0][3].as<std::string>(), "completed");
  EXPECT_EQ(x[0][4].as<int>(), 100);
  EXPECT_EQ(x[0][5].as<std::string>(), "zip") << "the seed's default";
  EXPECT_EQ(x[0][6].as<int>(), 2);
  EXPECT_EQ(x[0][7].as<int>(), 2);
  EXPECT_EQ(x[0][8].as<int>(), 52428800);
  EXPECT_EQ(x[0][9].as<std::string>(), "https://exports.test/1.zip");
  EXPECT_EQ(x[0][10].as<std::string>(), R"({"include_metadata": true})");
  EXPECT_EQ(x[0][11].as<long long>(), 1790000000LL);
  EXPECT_TRUE(x[0][12].as<bool>());
  EXPECT_EQ(x[1][1].as<std::string>(), kAlice) << "requested by an API key: the project's owner";
  EXPECT_EQ(x[1][3].as<std::string>(), "pending");
  EXPECT_EQ(x[1][5].as<std::string>(), "tar");
  EXPECT_EQ(x[1][10].as<std::string>(), "{}");
}

TEST_F(PixCrawlerTest, EveryEventOfAUserActorIsAnActivityRow) {
  AppendScript();
  CatchUp();
  const auto expected = Query("SELECT count(*) FROM events WHERE metadata->>'actor' ~ "
                              "'^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
                              true)[0][0]
                            .as<int>();
  ASSERT_EQ(expected, 14) << "Alice 8, Carol 2, Bob 2, Dave 1, Zoe 1";
  EXPECT_EQ(One("SELECT count(*) FROM activity_logs"), std::to_string(expected));
  EXPECT_EQ(One("SELECT count(*) FROM activity_logs a JOIN events e ON e.event_id = a.event_id "
                "WHERE a.action = e.event_type AND a.resource_type = e.stream_category AND a.metadata_ = e.payload "
                "AND a.\"timestamp\" = e.recorded_at AND a.actor = e.metadata->>'actor' "
                "AND a.resource_id = left(substr(e.stream_id, length(e.stream_category) + 2), 50)"),
            std::to_string(expected));
  auto ids = Query("SELECT id FROM activity_logs ORDER BY id");
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i][0].as<size_t>(), i + 1) << "ids in log order";
  EXPECT_EQ(One("SELECT count(*) FROM activity_logs WHERE user_id = '" + kAlice + "'"), "8");
  EXPECT_EQ(One("SELECT count(*) FROM activity_logs WHERE user_id = '" + kCarol + "'"), "2")
      << "her placeholder profile exists from her first event";
  EXPECT_EQ(One("SELECT user_id IS NULL FROM activity_logs WHERE action = 'PairNoteAdded'"), "t")
      << "an actor without a profile";
  EXPECT_EQ(One("SELECT resource_type || ' ' || resource_id FROM activity_logs WHERE action = 'ImageRejected'"),
            "image " + Sha("two").substr(0, 50));
  EXPECT_EQ(One("SELECT user_id::text FROM activity_logs WHERE action = 'UserSeen' AND actor = 'user:" + kDave + "'"),
            kDave)
      << "the UserSeen's own profile is there before its activity row";
}

TEST_F(PixCrawlerTest, DeletingAProfileCascadesAsTheSeedSays) {
  AppendScript();
  CatchUp();
  pqxx::connection conn(db_->AdminUrl());
  auto counts = [&](pqxx::work& tx) {
    std::string out;
    for (const char* t : {"projects", "crawl_jobs", "job_chunks", "images", "validation_jobs", "export_jobs"})
      out += tx.exec(fmt::format("SELECT count(*) FROM {}.{}", kSchema, t))[0][0].as<std::string>() + " ";
    return out + tx.exec(fmt::format("SELECT count(*) FROM {}.activity_logs WHERE user_id IS NULL", kSchema))[0][0]
                     .as<std::string>();
  };
  {
    pqxx::work tx(conn);
    EXPECT_EQ(counts(tx), "2 1 3 2 1 2 1");
    tx.exec(fmt::format("DELETE FROM {}.profiles WHERE id = '{}'", kSchema, kAlice));
    EXPECT_EQ(counts(tx), "1 0 0 0 0 0 9") << "her project, its crawl job and everything under it; her activity kept";
    tx.abort();
  }
  {
    pqxx::work tx(conn);
    tx.exec(fmt::format("DELETE FROM {}.profiles WHERE id = '{}'", kSchema, kBob));
    EXPECT_EQ(counts(tx), "2 1 3 2 1 1 3") << "only his export";
    tx.abort();
  }
}

TEST_F(PixCrawlerTest, MalformedFieldsSkipOrDefaultInsteadOfStoppingTheProjector) {
  Append("user-not-a-uuid", "UserSeen", R"({"email":"x@furrsight.test"})", "user:x");
  Append("project-p", "ProjectCreated", R"({"name":"P","owner_user_id":"nobody"})", User(kAlice));
  Append("user-" + kAlice, "UserSeen", R"({"full_name":")" + std::string(300, 'a') + R"("})", User(kAlice));
  Append("project-q", "ProjectCreated", R"({"name":")" + std::string(300, 'n') + R"(","owner_user_id":")" + kAlice +
                                            R"("})",
         User(kAlice));
  Append(Job(kCrawl), "JobRequested",
         R"({"job_type":"SCRAPE_URL","payload":{"max_images":"lots","keywords":"poodle"},"project_id":"q"})",
         User(kAlice));
  Append(Job(kCrawl), "JobProgressed", R"({"progress":250,"counters":{"images_found":"99999999999"}})", "worker:w");
  Append("job-not-a-uuid", "JobRequested", R"({"job_type":"SCRAPE_URL","project_id":"q"})", User(kAlice));
  Append("user-" + kBob, "UserSeen", R"({"email":")" + kAlice + R"(@unknown"})", User(kBob));
  CatchUp();
  EXPECT_EQ(One("SELECT count(*) FROM profiles"), "2");
  EXPECT_EQ(One("SELECT email || ' ' || length(full_name) FROM profiles WHERE id = '" + kAlice + "'"),
            kAlice + "@unknown 100");
  EXPECT_EQ(One("SELECT email FROM profiles WHERE id = '" + kBob + "'"), kBob + "@unknown")
      << "an email only a placeholder scheme makes, held by another profile, is not taken";
  EXPECT_EQ(One("SELECT length(name) || ' ' || stream_key FROM projects"), "100 q");
  EXPECT_EQ(One("SELECT max_images || ' ' || keywords::text || ' ' || progress || ' ' || total_images || ' ' || "
                "left(name, 6) FROM crawl_jobs"),
            "1000 [] 100 2147483647 Crawl ");
}

// Invariant 1 over a history of every event type (FurrSight and PixCrawler
// lives), at least 100,000 events, both projections built live while it is
// appended, then compared with fresh rebuilds.
TEST_F(PixCrawlerTest, LiveTablesEqualAFreshRebuildRowForRowForBothProjections) {
  const std::int64_t kEvents = std::getenv("FURRSIGHT_TEST_HISTORY") ? std::atoll(std::getenv("FURRSIGHT_TEST_HISTORY"))
                                                                     : 100000;
  const Projection* both[] = {&pixcrawler_, &furrsight_};
  std::map<std::string, Generation> live;
  for (const auto* p : both) live[std::string(p->name())] = Live(*p);
  std::atomic<bool> stop{false};
  std::vector<std::thread> followers;
  for (const auto* p : both)
    followers.emplace_back([&, p] {
      Projector projector(db_->AdminUrl(), *store_, nullptr, *p, {.batch_size = 500, .poll_interval = 20ms});
      auto ok = projector.Run(stop);
      EXPECT_TRUE(ok.has_value()) << ok.error().message;
    });
  // Events arrive while the projectors run.
  auto appended = testing::GenerateHistory(*store_, {.events = kEvents, .seed = 7, .pixcrawler = true});
  WaitReadable();
  pqxx::connection conn(db_->AdminUrl());
  {
    pqxx::read_transaction tx(conn);
    std::set<std::string> types;
    for (const auto& r : tx.exec("SELECT DISTINCT event_type FROM events")) types.insert(r[0].c_str());
    for (const auto& entry : events::Catalog())
      EXPECT_TRUE(types.contains(std::string(entry.type))) << entry.type << " is missing from the generated history";
  }
  const auto head = *store_->Head();
  // Wait while the live projectors make progress (a loaded CI machine is slow);
  // give up only after 60 s without any.
  for (const auto* p : both) {
    events::LogPosition last{};
    auto progressed = std::chrono::steady_clock::now();
    for (;;) {
      auto g = LoadGeneration(conn, p->name(), live[std::string(p->name())].generation);
      if (g && g->checkpoint == head) break;
      if (g && g->checkpoint != last) {
        last = g->checkpoint;
        progressed = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - progressed > 60s) {
        ADD_FAILURE() << p->name() << " stopped at " << last.global_position << " short of " << head.global_position;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  stop = true;
  for (auto& f : followers) f.join();

  for (const auto* p : both) {
    const auto& g = live[std::string(p->name())];
    EXPECT_EQ(LoadGeneration(conn, p->name(), g.generation)->checkpoint, head) << p->name();
    auto rebuilt = CreateGeneration(conn, *p);
    ASSERT_TRUE(rebuilt.has_value()) << rebuilt.error().message;
    Projector rebuilder(db_->AdminUrl(), *store_, nullptr, *p, {.batch_size = 1000});
    auto applied = rebuilder.CatchUp(rebuilt->generation);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
    if (p == &pixcrawler_) {
      EXPECT_EQ(*applied, appended) << "PixCrawler reads every event";
    }
    auto live_sums = Checksums(*p, g.schema);
    auto rebuilt_sums = Checksums(*p, rebuilt->schema);
    for (const auto& table : p->tables()) {
      EXPECT_EQ(live_sums[table], rebuilt_sums[table]) << p->name() << "." << table;
      EXPECT_NE(live_sums[table].substr(0, 2), "0:") << table << " is empty: the history must exercise it";
    }
  }

  // The aggregates agree with the rows they aggregate.
  EXPECT_EQ(One("SELECT count(*) FROM crawl_jobs c WHERE "
                "c.active_chunks <> (SELECT count(*) FROM job_chunks k WHERE k.job_id = c.id AND k.status = 'running') "
                "OR c.completed_chunks <> (SELECT count(*) FROM job_chunks k WHERE k.job_id = c.id AND k.status = 'completed') "
                "OR c.failed_chunks <> (SELECT count(*) FROM job_chunks k WHERE k.job_id = c.id AND k.status = 'failed') "
                "OR c.total_chunks < (SELECT count(*) FROM job_chunks k WHERE k.job_id = c.id) "
                "OR jsonb_array_length(c.task_ids) <> (SELECT count(*) FROM job_chunks k WHERE k.job_id = c.id) "
                "OR c.progress NOT BETWEEN 0 AND 100"),
            "0");
  EXPECT_EQ(One("SELECT count(*) FROM activity_logs"),
            Query("SELECT count(*) FROM events WHERE metadata->>'actor' ~ "
                  "'^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
                  true)[0][0]
                .as<std::string>());
  for (const char* sql : {"SELECT count(*) FROM crawl_jobs WHERE active_chunks > 0",
                          "SELECT count(*) FROM crawl_jobs WHERE failed_chunks > 0",
                          "SELECT count(*) FROM profiles WHERE placeholder",
                          "SELECT count(*) FROM activity_logs WHERE user_id IS NULL",
                          "SELECT count(*) FROM images WHERE validation_status = 'rejected'",
                          "SELECT count(*) FROM export_jobs WHERE status = 'completed' AND download_url IS NOT NULL",
                          "SELECT count(*) FROM projects WHERE status = 'archived'"})
    EXPECT_NE(One(sql), "0") << sql;
}

}  // namespace
}  // namespace furrsight::projections
