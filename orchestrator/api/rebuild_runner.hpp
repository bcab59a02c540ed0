// RebuildRunner: the API's projection rebuilds (POST
// /api/v1/projections/{name}/rebuild), one at a time, on a background thread
// of the API process, with progress for GET /api/v1/projections. The same
// projections::Rebuild as `furrsight projections rebuild`. Thread-safe; the
// destructor stops a running rebuild and waits for it.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include "events/store/event_store.hpp"
#include "projections/projection.hpp"

namespace furrsight::api {

class RebuildRunner {
 public:
  RebuildRunner(std::string admin_url, events::EventStore& store);
  ~RebuildRunner();
  RebuildRunner(const RebuildRunner&) = delete;
  RebuildRunner& operator=(const RebuildRunner&) = delete;

  // Starts rebuilding `projection` and switching readers to it when done.
  // kConflict while another rebuild runs.
  base::Result<void> Start(const projections::Projection& projection, std::string actor);
  // {"running", "projection", "generation", "applied", "remaining",
  //  "events_per_second", "started_by", "finished", "switched", "error"}
  boost::json::object Status() const;

 private:
  const std::string admin_url_;
  events::EventStore& store_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  boost::json::object status_;  // guarded by mu_
  bool running_ = false;        // guarded by mu_
  std::thread thread_;          // guarded by mu_ (joined before a new start)
};

}  // namespace furrsight::api
