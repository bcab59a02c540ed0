// The main job of `furrsight dev`: the processes that do the work (a sample
// grooming site on loopback, the scheduler, the projectors, a worker for
// scrape, validate, pair and inference), one crawl of the sample site, the
// pairing it starts, the vision model's analysis of the pairs when an
// endpoint is configured (inference_base_url), and a summary of what came out. The processes are children: they stop with dev
// (and, by the parent-death signal, even if dev is killed).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "events/base/config.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator::cli {

class DevMainJob {
 public:
  // `config` points at the embedded stack; logs and blobs go under `data_dir`.
  static base::Result<std::unique_ptr<DevMainJob>> Start(const base::Config& config, const std::filesystem::path& data_dir);

  // Scrapes the sample site and waits for its pairing, printing progress;
  // then prints the summary.
  base::Result<void> RunOnce(events::EventStore& store);
  const std::string& site_url() const { return site_url_; }

 private:
  DevMainJob() = default;
  const base::Config* config_ = nullptr;
  std::filesystem::path data_dir_;
  std::string site_url_;
  std::vector<ChildProcess> processes_;
};

}  // namespace furrsight::orchestrator::cli
