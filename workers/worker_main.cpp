// furrsight-worker: a stateless worker process. The only place where the
// worker runtime is wired to the job handlers and the settings.
//
//   furrsight-worker [--kinds noop,scrape,...] [--slots N] [--name NAME] [--config FILE] [--<setting> VALUE]...
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "events/base/config.hpp"
#include "events/base/log.hpp"
#include "events/store/store_context.hpp"
#include "workers/jobs/batch_inference_job.hpp"
#include "workers/jobs/export_job.hpp"
#include "workers/jobs/generate_queries_job.hpp"
#include "workers/jobs/pair_job.hpp"
#include "workers/jobs/scrape_job.hpp"
#include "workers/runtime/noop_handler.hpp"
#include "workers/runtime/worker.hpp"
#include "workers/storage/blob_store.hpp"

namespace {

namespace base = furrsight::base;
namespace workers = furrsight::workers;

constexpr int kExitUsage = 2;

// What handlers are built from.
struct Deps {
  const base::Config& config;
  furrsight::events::EventStore& store;
  workers::BlobStore& blobs;
};
using Made = base::Result<std::unique_ptr<workers::JobHandler>>;

// Short kind names and the job type each handles; a null factory is not built yet.
struct Kind {
  std::string_view name;
  std::string_view job_type;
  Made (*make)(Deps&);
};

const Kind kKinds[] = {
    {"noop", "NOOP", [](Deps&) -> Made { return std::make_unique<workers::NoopHandler>(); }},
    {"scrape", "SCRAPE_URL",
     [](Deps& d) -> Made {
       auto settings = workers::ScrapeSettings::FromConfig(d.config);
       if (!settings) return std::unexpected(settings.error());
       return std::make_unique<workers::ScrapeJob>(std::move(*settings), d.store, d.blobs);
     }},
    {"pair", "PROCESS_IMAGE_PAIR", [](Deps& d) -> Made { return std::make_unique<workers::PairJob>(d.store, d.blobs); }},
    {"inference", "BATCH_INFERENCE",
     [](Deps& d) -> Made {
       return std::make_unique<workers::BatchInferenceJob>(workers::inference::InferenceSettings::FromConfig(d.config),
                                                           d.store, d.blobs);
     }},
    {"queries", "GENERATE_QUERIES",
     [](Deps& d) -> Made {
       return std::make_unique<workers::GenerateQueriesJob>(
           workers::inference::InferenceSettings::FromConfig(d.config), d.store);
     }},
    {"validate", "VALIDATE_IMAGES",
     [](Deps& d) -> Made { return std::make_unique<workers::ValidateJob>(d.store, d.blobs); }},
    {"export", "EXPORT_DATASET",
     [](Deps& d) -> Made {
       return std::make_unique<workers::ExportJob>(d.store, d.blobs,
                                                   workers::ExportJobSettings{.scratch_dir = d.config.Get("export_scratch_dir")});
     }},
};

void PrintUsage(std::FILE* out) {
  fmt::print(out,
             "usage: furrsight-worker [--kinds LIST] [--slots N] [--name NAME] [--config FILE] [--<setting> VALUE]...\n"
             "  --kinds LIST   comma-separated job kinds to run (default: every kind built):\n");
  for (const auto& k : kKinds)
    fmt::print(out, "                   {:<10} {}{}\n", k.name, k.job_type, k.make ? "" : "  (not built yet)");
  fmt::print(out,
             "  --slots N      jobs run at once (setting worker_slots)\n"
             "  --name NAME    this worker's name in the log (default <host>-<pid>)\n"
             "  any setting of `furrsight config` as --key-name VALUE (e.g. --database-url, --job-limits)\n"
             "Stops on SIGTERM or Ctrl-C: finishes or gives back its jobs within worker_grace_ms.\n");
}

std::string DefaultName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return fmt::format("{}-{}", host, getpid());
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::optional<std::filesystem::path> config_file;
  std::string kinds_text, name = DefaultName();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(stdout);
      return 0;
    }
    if (!arg.starts_with("--") || i + 1 >= argc) {
      fmt::print(stderr, "furrsight-worker: '{}' needs a value or is not an option\n", arg);
      PrintUsage(stderr);
      return kExitUsage;
    }
    std::string key = arg.substr(2);
    std::replace(key.begin(), key.end(), '-', '_');
    std::string value = argv[++i];
    if (key == "kinds") kinds_text = value;
    else if (key == "name") name = value;
    else if (key == "config") config_file = value;
    else if (key == "slots") flags["worker_slots"] = value;
    else if (base::FindSetting(key) != nullptr) flags[key] = value;
    else {
      fmt::print(stderr, "furrsight-worker: unknown option {} (see --help)\n", arg);
      return kExitUsage;
    }
  }
  auto config = base::Config::Load(config_file, flags);
  if (!config) {
    fmt::print(stderr, "furrsight-worker: {}\n", config.error().message);
    return kExitUsage;
  }
  base::log::Level level;
  if (base::log::ParseLevel(config->Get("log_level"), level)) base::log::SetLevel(level);

  auto limits = workers::JobLimits::Parse(config->Get("job_limits"));
  if (!limits) {
    fmt::print(stderr, "furrsight-worker: {}\n", limits.error().message);
    return kExitUsage;
  }

  // SIGTERM / SIGINT go to one thread, which asks the worker to stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  workers::WorkerOptions options;
  options.name = name;
  options.slots = config->GetInt("worker_slots");
  options.poll_interval = std::chrono::milliseconds(config->GetInt("poll_interval_ms"));
  options.grace = std::chrono::milliseconds(config->GetInt("worker_grace_ms"));
  furrsight::events::StoreContext store(*config, false, static_cast<size_t>(options.slots) + 2);
  auto blobs = workers::MakeBlobStore(*config);
  if (!blobs) {
    fmt::print(stderr, "furrsight-worker: blob storage: {}\n", blobs.error().message);
    return kExitUsage;
  }
  Deps deps{*config, *store.store, **blobs};
  // The handlers asked for.
  std::vector<std::unique_ptr<workers::JobHandler>> handlers;
  std::vector<std::string> wanted;
  for (size_t start = 0; start <= kinds_text.size();) {
    size_t end = std::min(kinds_text.find(',', start), kinds_text.size());
    if (end > start) wanted.push_back(kinds_text.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& k : kKinds)
    if (kinds_text.empty() && k.make) wanted.emplace_back(k.name);
  for (const auto& w : wanted) {
    const Kind* kind = nullptr;
    for (const auto& k : kKinds)
      if (k.name == w || k.job_type == w) kind = &k;
    if (kind == nullptr) {
      fmt::print(stderr, "furrsight-worker: unknown kind '{}' (see --help for the list)\n", w);
      return kExitUsage;
    }
    if (!kind->make) {
      fmt::print(stderr, "furrsight-worker: the {} handler ({}) is not built yet; run the other kinds\n", kind->name,
                 kind->job_type);
      return kExitUsage;
    }
    auto made = kind->make(deps);
    if (!made) {
      fmt::print(stderr, "furrsight-worker: cannot start the {} handler: {}\n", kind->name, made.error().message);
      return kExitUsage;
    }
    handlers.push_back(std::move(*made));
  }
  workers::LimitLocks limit_locks(config->Get("database_url"), *limits);
  std::unique_ptr<workers::JobQueue> queue;
  std::vector<std::string> job_types;
  std::vector<workers::JobHandler*> raw;
  for (const auto& h : handlers) {
    raw.push_back(h.get());
    job_types.emplace_back(h->job_type());
  }
  if (auto address = furrsight::events::ParseRedisUrl(config->Get("redis_url")))
    queue = std::make_unique<workers::JobQueue>(*address, config->Get("redis_channel_prefix"), job_types);
  workers::Worker worker(options, *store.store, raw, &limit_locks, std::move(queue));

  std::thread signals([&] {
    int received = 0;
    sigwait(&stop_signals, &received);
    base::log::Info("stop signal received", {{"signal", received}});
    worker.RequestStop();
  });
  signals.detach();
  worker.Run();
  std::fflush(nullptr);
  if (worker.stuck()) std::_Exit(0);  // a handler ignored the stop; its job was given back
  return 0;
}
