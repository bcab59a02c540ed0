#include "orchestrator/cli/dev_main_job.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::orchestrator::cli {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::furrsight::events::v1;
using namespace std::chrono_literals;
using base::ErrorCode;
using base::Fail;

constexpr auto kSiteStart = 120s;
constexpr auto kJobLimit = 600s;
// The demo's own researcher and project, the same on every run.
inline constexpr std::string_view kDevIds = "furrsight.dev";

fs::path BinDir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "listening on http://127.0.0.1:PORT", the sample site's first line.
base::Result<std::string> WaitListening(const fs::path& log, ChildProcess& site) {
  for (auto deadline = std::chrono::steady_clock::now() + kSiteStart; std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(100ms)) {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);)
      if (auto at = line.find("http://"); line.starts_with("listening on") && at != std::string::npos)
        return line.substr(at);
    if (!site.Running()) break;
  }
  return Fail(ErrorCode::kUnavailable, fmt::format("the sample site did not start; see {}", log.string()));
}

// Appends `message` as the first event of `stream`, unless it exists already.
base::Result<void> Ensure(events::EventStore& store, const std::string& stream, const google::protobuf::Message& m) {
  auto event = events::MakeEventFromMessage(stream, m, {"system:dev", "dev", "dev", "dev"},
                                            base::UuidFromName(kDevIds, stream));
  auto r = store.Append(stream, events::ExpectedVersion::NoStream(), std::span(&event, 1));
  if (!r && r.error().code != ErrorCode::kConflict) return std::unexpected(r.error());
  return {};
}

long long Scalar(const std::string& url, const std::string& sql, const std::string& param = {}) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  auto r = param.empty() ? tx.exec(sql) : tx.exec_params(sql, param);
  return r.empty() || r[0][0].is_null() ? 0 : r[0][0].as<long long>();
}

// A counter from a completed job's result.
inline constexpr std::string_view kResultField = R"~(
SELECT payload->'result'->>$2 FROM events
WHERE stream_id = 'job-' || $1 AND event_type = 'JobCompleted' ORDER BY stream_version DESC LIMIT 1)~";

// A field of a completed job's result, as text ("" when there is none).
std::string ResultField(const std::string& url, const std::string& job_id, const std::string& key) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  auto r = tx.exec_params(std::string(kResultField), job_id, key);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].as<std::string>();
}

long long ResultCounter(const std::string& url, const std::string& job_id, const std::string& key) {
  const std::string text = ResultField(url, job_id, key);
  return text.empty() ? 0 : std::stoll(text);
}

}  // namespace

base::Result<std::unique_ptr<DevMainJob>> DevMainJob::Start(const base::Config& config, const fs::path& data_dir) {
  std::unique_ptr<DevMainJob> job(new DevMainJob());
  job->config_ = &config;
  job->data_dir_ = data_dir;
  fs::create_directories(data_dir / "logs");
  const std::vector<std::string> settings = {"--database-url",  config.Get("database_url"),
                                             "--redis-url",     config.Get("redis_url"),
                                             "--log-level",     "warn"};
  // The model endpoint goes to the worker through its environment (the API key stays off command lines).
  std::map<std::string, std::string> inference_env;
  for (const char* key : {"inference_base_url", "inference_model", "inference_api_key", "inference_max_in_flight",
                          "inference_timeout_ms", "inference_max_attempts", "inference_image_max_side"})
    inference_env[base::EnvName(key)] = config.Get(key);
  auto spawn = [&](std::vector<std::string> argv, const std::string& log, bool with_settings) -> base::Result<void> {
    if (with_settings) argv.insert(argv.end(), settings.begin(), settings.end());
    auto child = ChildProcess::Spawn({.argv = std::move(argv),
                                      .output_file = data_dir / "logs" / (log + ".log"),
                                      .extra_env = with_settings ? inference_env : std::map<std::string, std::string>{}});
    if (!child) return std::unexpected(child.error());
    job->processes_.push_back(std::move(*child));
    return {};
  };
  const fs::path site_log = data_dir / "logs" / "sample-site.log";
  fs::remove(site_log);
  if (auto ok = spawn({(BinDir() / "furrsight-sample-site").string(), "--port", "0", "--seed", "1"}, "sample-site", false);
      !ok)
    return std::unexpected(ok.error());
  auto url = WaitListening(site_log, job->processes_.back());
  if (!url) return std::unexpected(url.error());
  job->site_url_ = *url;
  if (auto ok = spawn({(BinDir() / "furrsight").string(), "scheduler"}, "scheduler", true); !ok)
    return std::unexpected(ok.error());
  // The read models follow the log while the main job runs (inference picks its pairs from grooming_pairs).
  if (auto ok = spawn({(BinDir() / "furrsight").string(), "projections", "run", "--admin-database-url",
                       config.Get("admin_database_url")},
                      "projector", true);
      !ok)
    return std::unexpected(ok.error());
  if (auto ok = spawn({(BinDir() / "furrsight-worker").string(), "--kinds", "scrape,validate,pair,inference,export", "--name",
                       "dev-worker", "--slots", "2", "--scrape-address-allowlist", "loopback",
                       "--scrape-min-host-delay-ms", "0", "--scrape-max-per-host", "8", "--blob-dir",
                       (data_dir / "blobs").string()},
                      "worker", true);
      !ok)
    return std::unexpected(ok.error());
  return job;
}

base::Result<void> DevMainJob::RunOnce(events::EventStore& store) {
  const auto started = std::chrono::steady_clock::now();
  // A researcher and a project, so PixCrawler's crawl_jobs and images fill too.
  const std::string user = base::UuidFromName(kDevIds, "user"), project = base::UuidFromName(kDevIds, "project");
  v1::UserSeen seen;
  seen.set_subject("dev|local");
  seen.set_full_name("Local researcher");
  v1::ProjectCreated created;
  created.set_name("Sample grooming site");
  created.set_owner_user_id(user);
  if (auto ok = Ensure(store, "user-" + user, seen); !ok) return ok;
  if (auto ok = Ensure(store, "project-" + project, created); !ok) return ok;

  jobs::JobService service(store);
  const std::string causation = base::NewUuid();
  jobs::SubmitOptions scrape{.job_type = "SCRAPE_URL",
                             .payload = {{"urls", boost::json::array{site_url_ + "/"}}, {"max_depth", 4},
                                         {"max_pages", 200}, {"max_images", 2000}},
                             .project_id = project};
  auto submitted = service.Submit(scrape, {"system:dev", causation, causation, "dev", NowUs()});
  if (!submitted) return std::unexpected(submitted.error());
  const std::string pairing = base::UuidFromName("furrsight.job.idempotency-key",
                                                 fmt::format("chain/{}/PROCESS_IMAGE_PAIR", submitted->job_id));
  fmt::print("\nmain job: scraping the sample site {} (job {})\n", site_url_, submitted->job_id);

  std::string last_line;
  auto wait_for = [&](const std::string& id, std::string_view what) -> base::Result<void> {
    for (;;) {
      auto state = service.Load(id);
      if (!state) return std::unexpected(state.error());
      if (state->status == jobs::JobStatus::kCompleted) return {};
      if (jobs::IsTerminal(state->status))
        return Fail(ErrorCode::kInternal, fmt::format("the {} job {} ended {}: {} (see {})", what, id,
                                                     jobs::StatusName(state->status), state->last_error,
                                                     (data_dir_ / "logs" / "worker.log").string()));
      if (std::chrono::steady_clock::now() - started > kJobLimit)
        return Fail(ErrorCode::kUnavailable, fmt::format("the {} job did not finish within {} s (see {})", what,
                                                        kJobLimit.count(), (data_dir_ / "logs").string()));
      const std::string line = fmt::format(
          "  {:<9} {:<12} {} pages, {} images, {} pairs, {} analysed so far", what, jobs::StatusName(state->status),
          Scalar(config_->Get("admin_database_url"), "SELECT count(*) FROM events WHERE event_type = 'PageCaptured'"),
          Scalar(config_->Get("admin_database_url"), "SELECT count(*) FROM events WHERE event_type = 'ImageDownloaded'"),
          Scalar(config_->Get("admin_database_url"), "SELECT count(*) FROM events WHERE event_type = 'PairProposed'"),
          Scalar(config_->Get("admin_database_url"), "SELECT count(*) FROM events WHERE event_type = 'PairAnalyzed'"));
      if (line != last_line) fmt::print("{}\n", line);
      last_line = line;
      std::this_thread::sleep_for(500ms);
    }
  };
  if (auto ok = wait_for(submitted->job_id, "scrape"); !ok) return ok;
  if (auto ok = wait_for(pairing, "pairing"); !ok) return ok;

  // The vision model, when one is configured: every unverified pair not yet analysed by it.
  std::string inference_line;
  const std::string endpoint = config_->Get("inference_base_url");
  if (endpoint.empty()) {
    inference_line =
        "no model endpoint configured, so pairs are not analysed. Point FurrSight at a vLLM server and run again:\n"
        "                   FURRSIGHT_INFERENCE_BASE_URL=http://<gpu-host>:8000/v1 scripts/demo   (docs/inference.md)";
  } else {
    // The pairs must be in the read model the job selects from.
    const std::string admin = config_->Get("admin_database_url");
    while (Scalar(admin, "SELECT count(*) FROM grooming_pairs") <
           Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'PairProposed'")) {
      if (std::chrono::steady_clock::now() - started > kJobLimit)
        return Fail(ErrorCode::kUnavailable, fmt::format("the read model grooming_pairs did not catch up (see {})",
                                                        (data_dir_ / "logs" / "projector.log").string()));
      std::this_thread::sleep_for(200ms);
    }
    auto batch = service.Submit({.job_type = "BATCH_INFERENCE", .payload = {}, .project_id = project},
                                {"system:dev", causation, causation, "dev", NowUs()});
    if (!batch) return std::unexpected(batch.error());
    fmt::print("main job: analysing the pairs with {} at {} (job {})\n", config_->Get("inference_model"), endpoint,
               batch->job_id);
    if (auto ok = wait_for(batch->job_id, "inference"); !ok) return ok;
    inference_line = fmt::format("{} pairs analysed ok, {} failed (furrsight jobs show {})",
                                 ResultCounter(admin, batch->job_id, "analysed_ok"),
                                 ResultCounter(admin, batch->job_id, "analysis_failed"), batch->job_id);
  }
  // The dataset as files: every pair not rejected (a fresh demo has none verified yet), as a zip.
  auto exported = service.Submit({.job_type = "EXPORT_DATASET",
                                  .payload = {{"format", "zip"},
                                              {"filters", {{"status", boost::json::array{"UNVERIFIED", "VERIFIED"}}}},
                                              {"crawl_job_id", submitted->job_id}}},
                                 {"system:dev", causation, causation, "dev", NowUs()});
  if (!exported) return std::unexpected(exported.error());
  fmt::print("main job: exporting the pairs as a zip (job {})\n", exported->job_id);
  if (auto ok = wait_for(exported->job_id, "export"); !ok) return ok;
  const std::string admin = config_->Get("admin_database_url");
  const std::string export_line = fmt::format(
      "{} pairs, {} bytes: {} (its link: furrsight jobs show {}; docs/export.md)",
      ResultField(admin, exported->job_id, "pairs"), ResultField(admin, exported->job_id, "file_size"),
      (data_dir_ / "blobs" / ResultField(admin, exported->job_id, "blob_key")).string(), exported->job_id);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(
      "\nmain job done in {:.1f} s\n"
      "  pages captured   {}\n"
      "  images stored    {} ({} valid, {} rejected)\n"
      "  pairs proposed   {} (all time; scraping again adds none)\n"
      "  inference        {}\n"
      "  export           {}\n"
      "  look next        furrsight jobs show {}   # what the pairing did\n"
      "                   furrsight events tail --category pair   # the proposed pairs\n"
      "                   logs in {}\n",
      seconds, Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'PageCaptured'"),
      Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'ImageDownloaded'"),
      Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'ImageValidated'"),
      Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'ImageRejected'"),
      Scalar(admin, "SELECT count(*) FROM events WHERE event_type = 'PairProposed'"), inference_line, export_line, pairing,
      (data_dir_ / "logs").string());
  return {};
}

}  // namespace furrsight::orchestrator::cli
