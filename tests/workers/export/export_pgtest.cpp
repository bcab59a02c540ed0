// EXPORT_DATASET against real PostgreSQL and a real blob store: a generated
// dataset exported in every format and read back with the standard tools
// (tar, unzip, a CSV and a JSON reader); splits without near-duplicate
// leaks; byte-identical output on a repeated export as of the same
// position; filters; resize; and the job end to end — a furrsight-worker
// process, PixCrawler's export_jobs row, the download link served by the API
// and refused once it has expired.
#include <cstdio>
#include <fstream>
#include <set>

#include <boost/json.hpp>
#include <fmt/chrono.h>

#include "events/base/sha256.hpp"
#include "events/base/text.hpp"
#include "orchestrator/api/api_server.hpp"
#include "tests/support/api_client.hpp"
#include "tests/support/grooming_dataset.hpp"
#include "tests/support/process_fixture.hpp"
#include "tests/support/shell.hpp"
#include "workers/jobs/export_job.hpp"
#include "workers/storage/s3_blob_store.hpp"
#include "workers/vision/image_codec.hpp"

namespace furrsight::workers {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

using testing::Shell;
using testing::ShellRun;
using testing::ReadWholeFile;

std::vector<json::object> JsonLines(const std::string& text) {
  std::vector<json::object> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    out.push_back(json::parse(text.substr(start, end - start)).as_object());
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

// A minimal RFC 4180 reader: rows of fields.
std::vector<std::vector<std::string>> Csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += text[++i];
      else if (c == '"') quoted = false;
      else field += c;
    } else if (c == '"') quoted = true;
    else if (c == ',') rows.back().push_back(std::exchange(field, ""));
    else if (c == '\n') {
      rows.back().push_back(std::exchange(field, ""));
      rows.emplace_back();
    } else field += c;
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// The running attempt as the handler sees it, without a worker.
class TestJobContext final : public JobContext {
 public:
  explicit TestJobContext(json::object payload) : payload_(std::move(payload)) {}
  const std::string& job_id() const override { return id_; }
  const std::string& job_type() const override { return type_; }
  int attempt() const override { return 1; }
  const json::object& payload() const override { return payload_; }
  const orchestrator::jobs::CommandContext& command_context() const override { return command_; }
  StopReason stop_reason() const override { return StopReason::kNone; }
  bool SleepFor(std::chrono::milliseconds) override { return true; }
  void Progress(int percent, std::map<std::string, std::int64_t> counters, std::string) override {
    percents.push_back(percent);
    last_counters = std::move(counters);
  }
  std::vector<int> percents;
  std::map<std::string, std::int64_t> last_counters;

 private:
  std::string id_ = base::NewUuid(), type_ = "EXPORT_DATASET";
  json::object payload_;
  orchestrator::jobs::CommandContext command_{"worker:test", "c", "c", "worker", 0};
};

class ExportTest : public testing::ProcessTest {
 protected:
  std::string Label() const override { return "export"; }

  void SetUp() override {
    ProcessTest::SetUp();
    blob_dir_ = testing::Services().dir / (db_->name() + "-blobs");
    work_ = testing::Services().dir / (db_->name() + "-export");
    fs::create_directories(work_);
    config_ = base::Config::WithOverrides({{"database_url", db_->ServiceUrl()},
                                           {"admin_database_url", db_->AdminUrl()},
                                           {"redis_url", db_->RedisUrl()},
                                           {"redis_channel_prefix", db_->ChannelPrefix()},
                                           {"blob_store", "file"},
                                           {"blob_dir", blob_dir_.string()},
                                           {"api_port", "0"}});
    auto blobs = MakeBlobStore(config_);
    ASSERT_TRUE(blobs) << blobs.error().message;
    blobs_ = std::move(*blobs);
    auto data = testing::GenerateGroomingDataset(*store_, *blobs_, {.pairs = 40, .seed = 11});
    ASSERT_TRUE(data) << data.error().message;
    data_ = std::move(*data);
    WaitReadable();
  }

  // Runs the handler; returns the job's result.
  json::object Export(json::object payload) {
    TestJobContext ctx(std::move(payload));
    ExportJob job(*store_, *blobs_, {.scratch_dir = work_});
    auto outcome = job.Run(ctx);
    if (auto* failed = std::get_if<Failed>(&outcome)) {
      ADD_FAILURE() << failed->error;
      return {};
    }
    EXPECT_TRUE(std::holds_alternative<Completed>(outcome));
    EXPECT_EQ(ctx.percents.back(), 100);
    EXPECT_TRUE(std::is_sorted(ctx.percents.begin(), ctx.percents.end())) << "progress only goes forward";
    return std::get<Completed>(outcome).result;
  }

  // The exported file, downloaded from the blob store, unpacked into a fresh directory.
  fs::path Unpack(const json::object& result, const std::string& name) {
    const std::string key(result.at("blob_key").as_string());
    const fs::path file = work_ / (name + "." + std::string(result.at("format").as_string()));
    EXPECT_TRUE(blobs_->GetToFile(key, file));
    const fs::path dir = work_ / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string format(result.at("format").as_string());
    ShellRun r{0, ""};
    if (format == "zip") r = Shell("cd " + dir.string() + " && unzip -q " + file.string());
    else if (format == "csv" || format == "jsonl") fs::copy_file(file, dir / ("manifest." + format));
    else r = Shell("tar -xf " + file.string() + " -C " + dir.string());
    EXPECT_EQ(r.code, 0) << r.out;
    return dir;
  }

  std::vector<const testing::GeneratedPair*> Truth(const std::set<std::string>& statuses) const {
    std::vector<const testing::GeneratedPair*> out;
    for (const auto& p : data_.pairs)
      if (statuses.contains(p.status)) out.push_back(&p);
    return out;
  }

  // Near-duplicate and shared-image pairs that were both exported are in one split.
  void ExpectNoSplitLeaks(const std::map<std::string, std::string>& split_of) {
    int checked = 0;
    for (const auto& p : data_.pairs) {
      if (p.near_duplicate_of < 0 || !split_of.contains(p.id)) continue;
      const auto& other = data_.pairs[static_cast<std::size_t>(p.near_duplicate_of)];
      if (!split_of.contains(other.id)) continue;
      EXPECT_EQ(split_of.at(p.id), split_of.at(other.id)) << p.id << " holds a near-copy of " << other.id;
      ++checked;
    }
    EXPECT_GT(checked, 0) << "the dataset must exercise near-duplicates";
  }

  base::Config config_;
  fs::path blob_dir_, work_;
  std::unique_ptr<BlobStore> blobs_;
  testing::GroomingDataset data_;
};

TEST_F(ExportTest, EveryFormatReadsBackWithStandardTools) {
  const auto verified = Truth({"VERIFIED"});
  std::map<std::string, const testing::GeneratedPair*> by_id;
  for (const auto* p : verified) by_id[p->id] = p;
  for (const std::string format : {"zip", "tar", "webdataset", "imagefolder", "csv", "jsonl"}) {
    SCOPED_TRACE(format);
    const json::object result = Export({{"format", format}});
    ASSERT_FALSE(result.empty());
    EXPECT_EQ(result.at("pairs").as_int64(), static_cast<std::int64_t>(verified.size()));
    EXPECT_EQ(result.at("pairs_in_log").as_int64(), static_cast<std::int64_t>(data_.pairs.size()));
    const fs::path dir = Unpack(result, format);
    const bool images = format != "csv" && format != "jsonl";
    EXPECT_EQ(result.at("images_exported").as_int64(), images ? 2 * static_cast<std::int64_t>(verified.size()) : 0);
    const fs::path root = dir / "furrsight-grooming";

    // The manifest: one line per verified pair, with the truth's labels and images.
    std::vector<json::object> lines;
    if (format == "csv") {
      auto rows = Csv(ReadWholeFile(dir / "manifest.csv"));
      ASSERT_EQ(rows.size(), verified.size() + 1);
      EXPECT_EQ(rows[0][0], "key");
      for (std::size_t i = 1; i < rows.size(); ++i) {
        ASSERT_EQ(rows[i].size(), rows[0].size());
        const auto* truth = by_id.at(rows[i][0]);
        EXPECT_EQ(rows[i][2], "VERIFIED");
        EXPECT_EQ(rows[i][3], truth->breed);
        EXPECT_EQ(rows[i][7], truth->before_sha256);
        EXPECT_EQ(rows[i][9], truth->after_sha256);
      }
      continue;
    }
    lines = JsonLines(ReadWholeFile(format == "jsonl" ? dir / "manifest.jsonl" : root / "manifest.jsonl"));
    ASSERT_EQ(lines.size(), verified.size());
    EXPECT_EQ(base::Sha256Hex(ReadWholeFile(format == "jsonl" ? dir / "manifest.jsonl" : root / "manifest.jsonl")),
              result.at("manifest_sha256").as_string());
    std::map<std::string, std::string> split_of;
    for (const auto& line : lines) {
      const std::string key(line.at("key").as_string());
      ASSERT_TRUE(by_id.contains(key)) << key << " was not a verified pair";
      const auto* truth = by_id.at(key);
      split_of[key] = std::string(line.at("split").as_string());
      EXPECT_EQ(line.at("breed").as_string(), truth->breed);
      EXPECT_EQ(line.at("services").as_array().size(), truth->services.size());
      for (const auto& [side, sha] : {std::pair{"before", truth->before_sha256}, std::pair{"after", truth->after_sha256}}) {
        const auto& img = line.at(side).as_object();
        EXPECT_EQ(img.at("source_sha256").as_string(), sha);
        EXPECT_EQ(img.at("sha256").as_string(), sha) << "not re-encoded: the bytes as downloaded";
        if (!images) continue;
        std::string file(img.at("file").as_string());
        if (format == "webdataset") {  // "<split>/<shard>.tar#<member>"
          const auto hash = file.find('#');
          const fs::path shard = root / file.substr(0, hash);
          const ShellRun member = Shell("tar -xOf " + shard.string() + " " + file.substr(hash + 1));
          ASSERT_EQ(member.code, 0) << member.out;
          EXPECT_EQ(base::Sha256Hex(member.out), sha);
        } else {
          EXPECT_EQ(base::Sha256Hex(ReadWholeFile(root / file)), sha) << file;
        }
      }
    }
    ExpectNoSplitLeaks(split_of);
    if (!images) continue;
    const std::string card = ReadWholeFile(root / "README.md");
    EXPECT_NE(card.find("Log position: `" + std::string(result.at("position").as_string()) + "`"), std::string::npos)
        << card;
    EXPECT_NE(card.find("| " + verified[0]->breed + " |"), std::string::npos) << "counts per breed";
    if (format == "imagefolder") {  // Hugging Face's layout: <split>/metadata.jsonl naming files beside it
      std::size_t rows = 0;
      for (const std::string split : {"train", "validation", "test"}) {
        if (!fs::exists(root / split / "metadata.jsonl")) continue;
        for (const auto& m : JsonLines(ReadWholeFile(root / split / "metadata.jsonl"))) {
          ++rows;
          EXPECT_TRUE(fs::exists(root / split / std::string(m.at("before_file_name").as_string())));
          EXPECT_TRUE(fs::exists(root / split / std::string(m.at("after_file_name").as_string())));
        }
      }
      EXPECT_EQ(rows, verified.size());
    }
    if (format == "webdataset") {  // each shard: <key>.before.jpg, <key>.after.jpg, <key>.json, grouped by key
      const ShellRun list = Shell("tar -tf " + (root / "train" / "train-000000.tar").string());
      ASSERT_EQ(list.code, 0) << list.out;
      std::vector<std::string> members;
      for (std::size_t at = 0; at < list.out.size();) {
        const auto end = list.out.find('\n', at);
        members.push_back(list.out.substr(at, end - at));
        at = end == std::string::npos ? list.out.size() : end + 1;
      }
      ASSERT_GE(members.size(), 3u) << list.out;
      const std::string key = members[0].substr(0, members[0].find('.'));
      EXPECT_EQ(members[0], key + ".before.jpg") << list.out;
      EXPECT_EQ(members[1], key + ".after.jpg") << list.out;
      EXPECT_EQ(members[2], key + ".json") << list.out;
      EXPECT_EQ(members.size() % 3, 0u) << "three members per sample";
    }
  }
}

TEST_F(ExportTest, ARepeatedExportAsOfTheSamePositionIsByteIdentical) {
  const json::object first = Export({{"format", "tar"}});
  const std::string position(first.at("position").as_string());
  // The log moves on: a pair is verified, more pairs arrive.
  const auto* waiting = Truth({"UNVERIFIED"}).front();
  auto verify = testing::TestEvent("pair-" + waiting->id, "PairVerified", "{}");
  ASSERT_TRUE(store_->Append("pair-" + waiting->id, events::ExpectedVersion::Any(), std::span(&verify, 1)));
  ASSERT_TRUE(testing::GenerateGroomingDataset(*store_, *blobs_, {.pairs = 5, .seed = 99}));
  WaitReadable();

  const json::object again = Export({{"format", "tar"}, {"as_of", position}});
  EXPECT_EQ(again.at("position").as_string(), position);
  EXPECT_EQ(again.at("manifest_sha256"), first.at("manifest_sha256"));
  EXPECT_EQ(Sha256OfFile(blob_dir_ / std::string(again.at("blob_key").as_string())).value(),
            Sha256OfFile(blob_dir_ / std::string(first.at("blob_key").as_string())).value())
      << "the whole archive, not only the manifest";
  const json::object now = Export({{"format", "tar"}});
  EXPECT_NE(now.at("manifest_sha256"), first.at("manifest_sha256"));
  EXPECT_EQ(now.at("pairs").as_int64(), first.at("pairs").as_int64() + 1 + 4) << "one more verified, 4 of 5 new";

  // A position the log has not reached is refused, and names the head.
  TestJobContext ctx({{"as_of", "999999999.999999999"}});
  auto refused = ExportJob(*store_, *blobs_, {.scratch_dir = work_}).Run(ctx);
  ASSERT_TRUE(std::holds_alternative<Failed>(refused));
  EXPECT_FALSE(std::get<Failed>(refused).retryable);
  EXPECT_NE(std::get<Failed>(refused).error.find("past the readable end of the log"), std::string::npos);
}

TEST_F(ExportTest, FiltersSelectByStatusBreedServiceAndTime) {
  auto count = [&](json::object filters) { return Export({{"format", "jsonl"}, {"filters", std::move(filters)}}).at("pairs").as_int64(); };
  EXPECT_EQ(count({{"status", json::array{"VERIFIED", "UNVERIFIED", "REJECTED"}}}), 40);
  EXPECT_EQ(count({{"status", "REJECTED"}}), static_cast<std::int64_t>(Truth({"REJECTED"}).size()));
  const std::string breed = data_.pairs[0].breed, service = data_.pairs[0].services[0];
  std::int64_t with_breed = 0, with_service = 0;
  for (const auto* p : Truth({"VERIFIED"})) {
    with_breed += p->breed == breed;
    with_service += std::find(p->services.begin(), p->services.end(), service) != p->services.end();
  }
  EXPECT_EQ(count({{"breeds", json::array{base::Slug(breed)}}}), with_breed) << "a slug matches the name";
  EXPECT_EQ(count({{"services", json::array{service}}}), with_service);
  EXPECT_EQ(count({{"to", "2000-01-01T00:00:00Z"}}), 0);
  EXPECT_EQ(count({{"from", "2000-01-01T00:00:00Z"}}), static_cast<std::int64_t>(Truth({"VERIFIED"}).size()));

  // By project: the pairs whose before image a crawl of that project downloaded (a chunk's images count for its parent).
  const std::string project = base::NewUuid();
  const std::string crawl = SubmitJob({.job_type = "SCRAPE_URL", .payload = {{"urls", json::array{"https://a.example/"}}},
                                       .project_id = project});
  const std::string chunk = SubmitJob({.job_type = "SCRAPE_URL", .payload = {{"urls", json::array{"https://b.example/"}}},
                                       .parent_job_id = crawl});
  ASSERT_TRUE(testing::GenerateGroomingDataset(*store_, *blobs_,
                                               {.pairs = 6, .seed = 31, .near_duplicate_every = 0, .rejected_every = 0,
                                                .unverified_every = 0, .crawl_job_id = chunk}));
  WaitReadable();
  EXPECT_EQ(count({{"project_id", project}}), 6);
  EXPECT_EQ(count({{"project_id", base::NewUuid()}}), 0);

  TestJobContext bad({{"filters", {{"status", "MAYBE"}}}});
  auto refused = ExportJob(*store_, *blobs_).Run(bad);
  ASSERT_TRUE(std::holds_alternative<Failed>(refused));
  EXPECT_NE(std::get<Failed>(refused).error.find("filters.status 'MAYBE'"), std::string::npos);
}

TEST_F(ExportTest, ResizeReencodesEveryImage) {
  const json::object result = Export({{"format", "zip"}, {"resize", {{"max_side", 64}, {"format", "png"}}}});
  const fs::path root = Unpack(result, "resized") / "furrsight-grooming";
  auto lines = JsonLines(ReadWholeFile(root / "manifest.jsonl"));
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines)
    for (const char* side : {"before", "after"}) {
      const auto& img = line.at(side).as_object();
      const std::string file(img.at("file").as_string());
      EXPECT_TRUE(file.ends_with(".png")) << file;
      const std::string bytes = ReadWholeFile(root / file);
      EXPECT_EQ(base::Sha256Hex(bytes), img.at("sha256").as_string());
      auto decoded = vision::DecodeImage(bytes);
      ASSERT_TRUE(decoded) << decoded.error().message;
      EXPECT_EQ(std::max(decoded->pixels.cols, decoded->pixels.rows), 64);
      EXPECT_EQ(img.at("width").as_int64(), decoded->pixels.cols);
    }
}

// S3 (s3rver, started by the harness): the images are read from the bucket,
// the archive is uploaded to it, and S3's own presigned link downloads it.
TEST_F(ExportTest, ExportsFromAndToS3WithItsPresignedLink) {
  auto env = [](const char* name) { return std::string(std::getenv(name) ? std::getenv(name) : ""); };
  ASSERT_FALSE(env("FURRSIGHT_TEST_S3_ENDPOINT").empty()) << "run through `furrsight services run`";
  auto s3 = S3BlobStore::Create({.endpoint = env("FURRSIGHT_TEST_S3_ENDPOINT"),
                                 .bucket = fmt::format("furrsight-export-{}", getpid()),
                                 .region = env("FURRSIGHT_TEST_S3_REGION"),
                                 .access_key = env("FURRSIGHT_TEST_S3_ACCESS_KEY"),
                                 .secret_key = env("FURRSIGHT_TEST_S3_SECRET_KEY")});
  ASSERT_TRUE(s3) << s3.error().message;
  ASSERT_TRUE((*s3)->CreateBucket());
  // "from" in whole seconds: the next second, after the SetUp's pairs.
  const auto since = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now());
  std::this_thread::sleep_until(since + 20ms);
  auto data = testing::GenerateGroomingDataset(*store_, **s3, {.pairs = 8, .seed = 23, .rejected_every = 0, .unverified_every = 0});
  ASSERT_TRUE(data) << data.error().message;
  WaitReadable();
  TestJobContext ctx({{"format", "zip"},
                      {"filters", {{"from", fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", since)}}},
                      {"expires_in_seconds", 120}});
  auto outcome = ExportJob(*store_, **s3, {.scratch_dir = work_}).Run(ctx);
  ASSERT_TRUE(std::holds_alternative<Completed>(outcome)) << std::get<Failed>(outcome).error;
  const auto& result = std::get<Completed>(outcome).result;
  EXPECT_EQ(result.at("pairs").as_int64(), 8);
  const std::string url(result.at("download_url").as_string());
  EXPECT_TRUE(url.starts_with(env("FURRSIGHT_TEST_S3_ENDPOINT"))) << url;
  EXPECT_NE(url.find("X-Amz-Expires=120"), std::string::npos) << url;
  const fs::path zip = work_ / "from-s3.zip";
  const ShellRun get = Shell(fmt::format("curl -sSf -o {} '{}'", zip.string(), url));
  ASSERT_EQ(get.code, 0) << get.out;
  const ShellRun test = Shell("unzip -t " + zip.string());
  EXPECT_EQ(test.code, 0) << test.out;
  const ShellRun manifest = Shell("unzip -p " + zip.string() + " furrsight-grooming/manifest.jsonl");
  EXPECT_EQ(JsonLines(manifest.out).size(), 8u);
}

// An image gone from blob storage fails the export once, naming the pair and what to do; no retry.
TEST_F(ExportTest, AMissingImageFailsTheExportNamingThePair) {
  const auto* victim = Truth({"VERIFIED"}).front();
  ASSERT_TRUE(fs::remove(blob_dir_ / ContentKey(victim->after_sha256)));
  TestJobContext ctx({{"format", "tar"}});
  auto outcome = ExportJob(*store_, *blobs_, {.scratch_dir = work_}).Run(ctx);
  ASSERT_TRUE(std::holds_alternative<Failed>(outcome));
  const auto& failed = std::get<Failed>(outcome);
  EXPECT_FALSE(failed.retryable);
  EXPECT_NE(failed.error.find("pair " + victim->id + ": its after image " + victim->after_sha256), std::string::npos)
      << failed.error;
  EXPECT_NE(failed.error.find("restore the blob"), std::string::npos) << failed.error;
  // The pair left out by a filter, the export goes through.
  EXPECT_EQ(Export({{"format", "tar"}, {"filters", {{"breeds", json::array{"No Such Breed"}}}}}).at("pairs").as_int64(), 0);
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(work_, ec) || std::none_of(fs::directory_iterator(work_), fs::directory_iterator(),
                                                      [](const auto& e) { return e.path().extension() == ".part"; }))
      << "no scratch file left behind";
}

// A bad payload is refused when the job is requested, with the field named, and nothing is appended.
TEST_F(ExportTest, ABadPayloadIsRefusedWhenRequested) {
  const auto before = CountType("JobRequested");
  for (auto [payload, says] : std::vector<std::pair<json::object, std::string>>{
           {{{"format", "rar"}}, "payload.format \"rar\" is not one of"},
           {{{"filters", {{"status", "MAYBE"}}}}, "filters.status 'MAYBE'"},
           {{{"splits", {{"train", 0.9}}}}, "must be 1"},
           {{{"resize", {{"max_side", 4}}}}, "resize.max_side is not valid"},
           {{{"as_of", "yesterday"}}, "payload.as_of 'yesterday' is not a log position"},
           {{{"expires_in_seconds", 0}}, "expires_in_seconds must be an integer from 1"},
           {{{"colour", "red"}}, "payload.colour is not an export option"}}) {
    const std::string id = base::NewUuid();
    auto r = service_->Submit({.job_type = "EXPORT_DATASET", .payload = payload}, {"test:submitter", id, id, "test", testing::NowUs()});
    ASSERT_FALSE(r.has_value()) << json::serialize(payload);
    EXPECT_EQ(r.error().code, base::ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  }
  EXPECT_EQ(CountType("JobRequested"), before);
}

// The job as it runs in production: submitted, claimed by a furrsight-worker
// process, projected into PixCrawler's export_jobs, downloaded through the API.
TEST_F(ExportTest, AWorkerExportsAndTheApiServesTheLinkUntilItExpires) {
  auto projector = StartProjector("");
  auto worker = StartWorker("export", 1, {"--blob-dir", blob_dir_.string()}, "export");
  // PixCrawler's export_jobs row hangs off a crawl job of a project.
  const std::string user = base::NewUuid(), project = base::NewUuid();
  auto seen = testing::TestEvent("user-" + user, "UserSeen", R"({"subject":"t|1","email":"e@furrsight.test"})");
  auto created = testing::TestEvent("project-" + project, "ProjectCreated",
                                    fmt::format(R"({{"name":"Exports","owner_user_id":"{}"}})", user));
  ASSERT_TRUE(store_->Append("user-" + user, events::ExpectedVersion::NoStream(), std::span(&seen, 1)));
  ASSERT_TRUE(store_->Append("project-" + project, events::ExpectedVersion::NoStream(), std::span(&created, 1)));
  const std::string crawl = SubmitJob({.job_type = "SCRAPE_URL",
                                       .payload = {{"urls", json::array{"https://groomers.example/"}}},
                                       .project_id = project});
  const std::string job = SubmitJob({.job_type = "EXPORT_DATASET",
                                     .payload = {{"format", "zip"}, {"crawl_job_id", crawl}, {"expires_in_seconds", 12}}});
  ASSERT_TRUE(WaitUntil([&] { return State(job).status == orchestrator::jobs::JobStatus::kCompleted; }, 120s))
      << State(job).last_error << LogOf("worker-export");
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT count(*) FROM export_jobs WHERE status = 'completed'") == 1; }, 60s));
  pqxx::connection conn(db_->AdminUrl());
  pqxx::nontransaction tx(conn);
  const auto read_at = std::chrono::steady_clock::now();
  const auto row = tx.exec1(
      "SELECT progress, format, total_images, exported_images, file_size, download_url, "
      "extract(epoch FROM expires_at - completed_at), job_id::text, extract(epoch FROM expires_at - now()) "
      "FROM export_jobs");
  const std::int64_t images = 2 * static_cast<std::int64_t>(Truth({"VERIFIED"}).size());
  EXPECT_EQ(row[0].as<int>(), 100);
  EXPECT_EQ(row[1].as<std::string>(), "zip");
  EXPECT_EQ(row[2].as<std::int64_t>(), images);
  EXPECT_EQ(row[3].as<std::int64_t>(), images);
  EXPECT_GT(row[4].as<std::int64_t>(), 0);
  EXPECT_NEAR(row[6].as<double>(), 12.0, 2.0) << "expires_at = completion + expires_in_seconds";
  EXPECT_EQ(row[7].as<std::string>(), job);
  const std::string url = row[5].as<std::string>();

  auto server = api::ApiServer::Start(config_);
  ASSERT_TRUE(server) << server.error().message;
  testing::ApiClient client(fmt::format("http://127.0.0.1:{}", (*server)->port()));
  const auto download = client.Get(url);
  ASSERT_EQ(download.status, 200) << download.body;
  EXPECT_EQ(download.Header("content-type"), "application/zip");
  EXPECT_EQ(static_cast<std::int64_t>(download.body.size()), row[4].as<std::int64_t>());
  const fs::path zip = work_ / "downloaded.zip";
  std::ofstream(zip, std::ios::binary) << download.body;
  const ShellRun test = Shell("unzip -t " + zip.string());
  EXPECT_EQ(test.code, 0) << test.out;

  // Past expires_at (as the row said, counted from when it was read) by a second.
  const auto until_expiry = std::chrono::milliseconds(static_cast<std::int64_t>(row[8].as<double>() * 1000));
  ASSERT_GT(until_expiry.count(), 0) << "the link expired before the test could download it once";
  std::this_thread::sleep_until(read_at + until_expiry + 1s);
  const auto expired = client.Get(url);
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(expired.Json().at("code").as_string(), "link_expired") << expired.body;
}

}  // namespace
}  // namespace furrsight::workers
