#include "orchestrator/api/rebuild_runner.hpp"

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "projections/rebuild.hpp"

namespace furrsight::api {

namespace json = boost::json;

RebuildRunner::RebuildRunner(std::string admin_url, events::EventStore& store)
    : admin_url_(std::move(admin_url)), store_(store) {
  status_ = json::object{{"running", false}};
}

RebuildRunner::~RebuildRunner() {
  stop_ = true;
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

base::Result<void> RebuildRunner::Start(const projections::Projection& projection, std::string actor) {
  std::lock_guard lock(mu_);
  if (running_)
    return base::Fail(base::ErrorCode::kConflict,
                      fmt::format("a rebuild of {} is running; wait for it (GET /api/v1/projections)",
                                  std::string(status_.at("projection").as_string())));
  if (thread_.joinable()) thread_.join();  // the previous one has finished
  running_ = true;
  status_ = json::object{{"running", true},         {"projection", projection.name()}, {"generation", nullptr},
                         {"applied", 0},            {"remaining", nullptr},             {"events_per_second", 0.0},
                         {"started_by", actor},     {"finished", false},                {"switched", false},
                         {"error", nullptr}};
  thread_ = std::thread([this, &projection] {
    base::log::Info("rebuild started", {{"projection", std::string(projection.name())}});
    base::Result<projections::RebuildResult> result = base::Fail(base::ErrorCode::kInternal, "not run");
    try {
      result = projections::Rebuild(
        admin_url_, store_, projection, {},
        [this](const projections::Generation& g) {
          std::lock_guard lock(mu_);
          status_["generation"] = g.generation;
        },
        [this](const projections::RebuildProgress& p) {
          std::lock_guard lock(mu_);
          status_["applied"] = p.applied;
          status_["remaining"] = p.remaining;
          status_["events_per_second"] = p.events_per_second;
        },
        &stop_);
    } catch (const std::exception& e) {  // never let it end the API process
      result = base::Fail(base::ErrorCode::kInternal, std::string("rebuild failed: ") + e.what());
    }
    std::lock_guard lock(mu_);
    running_ = false;
    status_["running"] = false;
    status_["finished"] = true;
    if (result) {
      status_["applied"] = result->applied;
      status_["remaining"] = 0;
      status_["switched"] = result->switched;
      status_["generation"] = result->generation.generation;
      base::log::Info("rebuild finished", {{"projection", std::string(projection.name())},
                                           {"events", result->applied}});
    } else {
      status_["error"] = result.error().message;
      base::log::Error("rebuild failed", {{"projection", std::string(projection.name())},
                                          {"error", result.error().message}});
    }
  });
  return {};
}

json::object RebuildRunner::Status() const {
  std::lock_guard lock(mu_);
  return status_;
}

}  // namespace furrsight::api
