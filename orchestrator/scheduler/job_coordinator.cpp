#include "orchestrator/scheduler/job_coordinator.hpp"

#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"

namespace furrsight::orchestrator::scheduler {
namespace {

using base::ErrorCode;
using base::Fail;
namespace v1 = ::furrsight::events::v1;

constexpr int kConflictTries = 5;

inline constexpr std::string_view kLoadCheckpoint = R"~(
SELECT checkpoint_tx::text, checkpoint_position FROM process_manager_checkpoints WHERE name = $1)~";
inline constexpr std::string_view kSaveCheckpoint = R"~(
INSERT INTO process_manager_checkpoints (name, checkpoint_tx, checkpoint_position, events_handled)
VALUES ($1, $2::xid8, $3, $4)
ON CONFLICT (name) DO UPDATE SET checkpoint_tx = excluded.checkpoint_tx,
  checkpoint_position = excluded.checkpoint_position,
  events_handled = process_manager_checkpoints.events_handled + excluded.events_handled, updated_at = now())~";

// Follow-up jobs: when a top-level job of `trigger` completes, request `follow_up`.
struct ChainRule {
  std::string_view trigger;
  std::string_view follow_up;
};
constexpr ChainRule kChainRules[] = {{"SCRAPE_URL", "PROCESS_IMAGE_PAIR"}};

std::string JobIdOf(const std::string& stream_id) { return stream_id.substr(stream_id.find('-') + 1); }

std::string CorrelationOf(const events::RecordedEvent& e) {
  boost::system::error_code ec;
  auto v = boost::json::parse(e.metadata_json, ec);
  if (!ec && v.is_object())
    if (const auto* c = v.as_object().if_contains("correlation_id"); c != nullptr && c->is_string())
      return std::string(c->as_string());
  return e.event_id;
}

}  // namespace

JobCoordinator::JobCoordinator(events::EventStore& store, events::RedisWaker* waker,
                               std::chrono::milliseconds poll_interval)
    : store_(store), waker_(waker), poll_interval_(poll_interval), service_(store) {}

base::Result<void> JobCoordinator::LoadCheckpoint() {
  events::LogPosition from;
  auto lease = store_.pool().Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    auto r = tx.exec_params(std::string(kLoadCheckpoint), std::string(kName));
    if (!r.empty()) from = {std::stoull(r[0][0].as<std::string>()), r[0][1].as<std::int64_t>()};
  } catch (const std::exception& e) {
    lease->Discard();
    return Fail(ErrorCode::kUnavailable, fmt::format("loading the job coordinator's checkpoint: {}", e.what()));
  }
  subscription_ = std::make_unique<events::Subscription>(
      store_, waker_,
      events::SubscriptionOptions{from, {{"job"}, {"JobCompleted", "JobFailed", "JobCancelled"}}, 500, poll_interval_});
  return {};
}

base::Result<void> JobCoordinator::SaveCheckpoint(std::int64_t handled) {
  auto lease = store_.pool().Acquire();
  if (!lease) return std::unexpected(lease.error());
  const auto& p = subscription_->position();
  try {
    pqxx::nontransaction tx(**lease);
    tx.exec_params(std::string(kSaveCheckpoint), std::string(kName), std::to_string(p.tx_id), p.global_position,
                   handled);
  } catch (const std::exception& e) {
    lease->Discard();
    return Fail(ErrorCode::kUnavailable, fmt::format("saving the job coordinator's checkpoint: {}", e.what()));
  }
  return {};
}

base::Result<int> JobCoordinator::Step(std::chrono::milliseconds max_wait) {
  if (!subscription_)
    if (auto ok = LoadCheckpoint(); !ok) return std::unexpected(ok.error());
  auto batch = subscription_->Next(max_wait);
  if (!batch) return std::unexpected(batch.error());
  for (const auto& e : *batch) {
    base::Result<void> handled;
    for (int tries = 0; tries < kConflictTries; ++tries) {
      handled = Handle(e);
      if (handled || handled.error().code != ErrorCode::kConflict) break;
    }
    if (!handled) {
      const ErrorCode code = handled.error().code;
      if (code != ErrorCode::kInvalidArgument && code != ErrorCode::kFailedPrecondition) {
        // Maybe passing (PostgreSQL restarting, a race lost again and again): the checkpoint stays
        // before this event; reload it and read the batch again.
        subscription_.reset();
        return std::unexpected(handled.error());
      }
      // The event itself cannot be handled (malformed, or a state it does not fit): handling it again would not help.
      base::log::Error("job coordinator cannot handle an event; skipping it",
                       {{"event", e.event_id}, {"stream", e.stream_id}, {"error", handled.error().message}});
    }
    ++stats_.events;
  }
  if (!batch->empty())
    if (auto ok = SaveCheckpoint(static_cast<std::int64_t>(batch->size())); !ok) return std::unexpected(ok.error());
  return static_cast<int>(batch->size());
}

base::Result<void> JobCoordinator::Handle(const events::RecordedEvent& e) {
  std::string status;
  if (e.type == "JobCompleted") status = "COMPLETED";
  else if (e.type == "JobCancelled") status = "CANCELLED";
  else {
    auto failed = events::DecodeAs<v1::JobFailed>(e);
    if (!failed) return std::unexpected(failed.error());
    if (!failed->final()) return {};
    status = "FAILED";
  }
  const std::string job_id = JobIdOf(e.stream_id);
  auto first = store_.ReadStream(e.stream_id, 1, events::Direction::kForward, 1);
  if (!first) return std::unexpected(first.error());
  if (first->empty() || first->front().type != "JobRequested") return {};
  auto request = events::DecodeAs<v1::JobRequested>(first->front());
  if (!request) return std::unexpected(request.error());

  // The command's causation is this event: what it appends gets ids derived from it.
  jobs::CommandContext context{"system:job-coordinator", CorrelationOf(e), e.event_id, "coordinator",
                               e.recorded_at_us};
  if (!request->parent_job_id().empty()) {
    auto r = service_.Execute(request->parent_job_id(),
                              jobs::RecordChildFinished{job_id, status, request->job_type()}, context);
    if (!r) return std::unexpected(r.error());
    ++stats_.children_recorded;
  } else if (status == "COMPLETED") {
    const auto& fields = request->payload().fields();
    auto chain = fields.find("chain");
    bool wanted = chain == fields.end() || !chain->second.has_bool_value() || chain->second.bool_value();
    for (const auto& rule : kChainRules) {
      if (!wanted || rule.trigger != request->job_type()) continue;
      jobs::SubmitOptions follow_up;
      follow_up.job_type = std::string(rule.follow_up);
      follow_up.payload["crawl_job_id"] = job_id;
      follow_up.project_id = request->project_id();
      follow_up.idempotency_key = fmt::format("chain/{}/{}", job_id, rule.follow_up);
      auto submitted = service_.Submit(follow_up, context);
      if (!submitted) return std::unexpected(submitted.error());
      if (submitted->created) ++stats_.follow_ups;
    }
  }
  if (status == "CANCELLED") {
    auto parent = service_.Load(job_id);
    if (!parent) return std::unexpected(parent.error());
    for (const auto& child : parent->children) {
      if (parent->finished_children.contains(child)) continue;
      auto r = service_.Execute(child, jobs::CancelJob{"its parent job was cancelled"}, context);
      if (r) ++stats_.children_cancelled;
      else if (r.error().code == ErrorCode::kUnavailable) return std::unexpected(r.error());
    }
  }
  return {};
}

}  // namespace furrsight::orchestrator::scheduler
