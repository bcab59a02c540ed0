// Export throughput and memory (issue [export]): a generated dataset of
// FURRSIGHT_BENCH_PAIRS verified pairs (default 10,000; real JPEGs in a file
// blob store, the events in PostgreSQL) exported as tar by a real
// furrsight-worker process, against plain `tar -cf` of the same image files
// in the same run; the worker's peak resident memory (VmHWM) before and
// after the export.
//
//   build/bin/furrsight services run --log-level warn -- build/bin/export_bench
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "bench/bench_support.hpp"
#include "events/redis/redis_notifier.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "tests/support/grooming_dataset.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/test_database.hpp"
#include "workers/export/dataset_snapshot.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::bench {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace jobs = orchestrator::jobs;

int Main() {
  const long pairs = EnvLong("FURRSIGHT_BENCH_PAIRS", 10'000);
  auto db = testing::TestDatabase::Create("export_bench");
  const fs::path dir = fs::temp_directory_path() / fmt::format("export_bench_{}", getpid());
  const fs::path blob_dir = dir / "blobs";
  fs::create_directories(dir);
  auto config = base::Config::WithOverrides({{"blob_store", "file"}, {"blob_dir", blob_dir.string()}});
  auto blobs = workers::MakeBlobStore(config);
  if (!blobs) throw std::runtime_error(blobs.error().message);
  events::PgPool pool(db->ServiceUrl(), 2, events::EventStore::PrepareStatements);
  events::RedisNotifier notifier(*events::ParseRedisUrl(db->RedisUrl()), db->ChannelPrefix());
  events::EventStore store(pool, &notifier);

  auto start = Clock::now();
  auto data = testing::GenerateGroomingDataset(
      store, **blobs,
      {.pairs = static_cast<int>(pairs), .seed = 5, .rejected_every = 0, .unverified_every = 0, .width = 320, .height = 240});
  if (!data) throw std::runtime_error(data.error().message);
  std::printf("generated %ld pairs, %.1f MB of JPEG in %.1f s\n", pairs, data->image_bytes / 1e6, SecondsSince(start));

  // The snapshot alone, in this process, against reading the same events with
  // ReadAll and doing nothing: three rounds, alternating, medians.
  {
    const auto head = store.Head();
    if (!head) throw std::runtime_error(head.error().message);
    std::vector<double> read_s, snap_s;
    std::int64_t plain = 0, folded = 0;
    for (int round = 0; round < 3; ++round) {
      auto t = Clock::now();
      plain = 0;
      for (const char* category : {"image", "pair"}) {
        events::LogPosition after{};
        for (;;) {
          auto batch = store.ReadAll(after, {.categories = {category}}, 5000);
          if (!batch) throw std::runtime_error(batch.error().message);
          plain += static_cast<std::int64_t>(batch->size());
          if (batch->size() < 5000) break;
          after = batch->back().position;
        }
      }
      read_s.push_back(SecondsSince(t));
      t = Clock::now();
      auto snap = workers::exporting::ReadSnapshot(store, *head, {});
      if (!snap) throw std::runtime_error(snap.error().message);
      snap_s.push_back(SecondsSince(t));
      folded = snap->events_read;
    }
    const double r = Median(read_s), f = Median(snap_s);
    std::printf("snapshot of %lld events: %.0f ms (%.0f events/s); ReadAll of the same events alone: %.0f ms "
                "(%.0f events/s); ratio %.2f (medians of 3)\n",
                static_cast<long long>(folded), f * 1e3, folded / f, r * 1e3, plain / r, r / f);
  }

  // Baseline: plain tar of the same image files, into the same directory.
  {
    std::ofstream list(dir / "files.txt");
    for (const auto& p : data->pairs)
      for (const auto* sha : {&p.before_sha256, &p.after_sha256}) list << workers::ContentKey(*sha) << "\n";
  }
  testing::Shell(fmt::format("cat {}/files.txt | (cd {} && xargs cat > /dev/null); sync", dir.string(),
                             blob_dir.string()));
  auto plain_tar = [&] {
    const auto t = Clock::now();
    auto tar = testing::Shell(fmt::format("cd {} && tar -cf {}/plain.tar -T {}/files.txt && sync {}/plain.tar",
                                          blob_dir.string(), dir.string(), dir.string(), dir.string()));
    const double seconds = SecondsSince(t);
    if (tar.code != 0) throw std::runtime_error("tar failed: " + tar.out);
    const double mb = static_cast<double>(fs::file_size(dir / "plain.tar")) / 1e6;
    fs::remove(dir / "plain.tar");
    return std::pair{seconds, mb};
  };

  // The export, by a worker process.
  std::vector<std::string> argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight-worker", "--kinds", "export",
                                   "--slots", "1", "--database-url", db->ServiceUrl(), "--redis-url", db->RedisUrl(),
                                   "--redis-channel-prefix", db->ChannelPrefix(), "--log-level", "warn", "--blob-dir",
                                   blob_dir.string(), "--export-scratch-dir", dir.string(), "--job-limits", ""};
  // FURRSIGHT_BENCH_PERF=FILE: profile the worker with `perf record` (its memory figure is then perf's).
  if (const char* perf = std::getenv("FURRSIGHT_BENCH_PERF"))
    argv.insert(argv.begin(), {"perf", "record", "-F", "2000", "-o", perf, "--"});
  auto worker = orchestrator::ChildProcess::Spawn({.argv = argv});
  if (!worker) throw std::runtime_error(worker.error().message);
  std::this_thread::sleep_for(1s);
  const long idle_kb = PeakRssKb(worker->pid());
  jobs::JobService service(store);
  auto export_once = [&](long& peak) {
    const std::string id = base::NewUuid();
    const auto t = Clock::now();
    auto job = service.Submit({.job_type = "EXPORT_DATASET", .payload = {{"format", "tar"}}}, {"bench", id, id, "bench", 0});
    if (!job) throw std::runtime_error(job.error().message);
    peak = std::max(peak, WaitForJob(service, job->job_id, worker->pid(), std::chrono::seconds(1800), "export"));
    const double seconds = SecondsSince(t);
    boost::json::object result;
    const auto history = store.ReadStream(jobs::JobStream(job->job_id));
    if (!history) throw std::runtime_error(history.error().message);
    for (const auto& e : *history)
      if (e.type == "JobCompleted") {
        const auto payload = boost::json::parse(e.payload_json);
        result = payload.as_object().at("result").as_object();
      }
    return std::pair{seconds, result};
  };
  // Three rounds, alternating tar and the export; medians.
  std::vector<double> tar_runs, export_runs;
  double tar_mb = 0;
  long peak = 0;
  boost::json::object result;
  for (int round = 0; round < 3; ++round) {
    auto [ts, mb_tar] = plain_tar();
    tar_runs.push_back(ts);
    tar_mb = mb_tar;
    auto [es, r] = export_once(peak);
    export_runs.push_back(es);
    result = std::move(r);
  }
  const double tar_seconds = Median(tar_runs), seconds = Median(export_runs);
  const double mb = static_cast<double>(result.at("file_size").to_number<std::int64_t>()) / 1e6;
  const double exported = static_cast<double>(result.at("pairs").to_number<std::int64_t>());
  std::printf("plain tar of the %zu image files (median of 3): %.2f s, %.1f MB, %.1f MB/s, %.0f pairs/s\n",
              2 * data->pairs.size(), tar_seconds, tar_mb, tar_mb / tar_seconds, pairs / tar_seconds);
  std::printf("EXPORT_DATASET tar (median of 3; submit to completed: log read, splits, archive, upload): %.2f s, %.1f MB, "
              "%.1f MB/s, %.0f pairs/s\n",
              seconds, mb, mb / seconds, exported / seconds);
  std::printf("export phases of the last run (ms): %s\n", boost::json::serialize(result.at("timings")).c_str());
  std::printf("ratio export/tar (MB/s): %.2f\n", (mb / seconds) / (tar_mb / tar_seconds));
  std::printf("worker peak RSS: idle %ld kB, during the export %ld kB (+%ld kB for %.0f pairs, %.0f MB archive)\n",
              idle_kb, peak, peak - idle_kb, exported, mb);
  worker->Stop(SIGTERM, 10s);
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("export_bench", furrsight::bench::Main); }
