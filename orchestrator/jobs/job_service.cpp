#include "orchestrator/jobs/job_service.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "events/base/log.hpp"
#include "events/base/uuid.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::orchestrator::jobs {
namespace {

using base::ErrorCode;
using base::Fail;

// Derives ids from name spaces of their own.
inline constexpr std::string_view kJobIdSpace = "furrsight.job.idempotency-key";
inline constexpr std::string_view kChildIdSpace = "furrsight.job.child";
inline constexpr std::string_view kEventIdSpace = "furrsight.job.command";

events::EventMetadata Metadata(const CommandContext& c) {
  return {c.actor, c.correlation_id, c.causation_id, c.source};
}

std::string EventId(const CommandContext& c, const std::string& job_id, size_t index) {
  return base::UuidFromName(kEventIdSpace, fmt::format("{}/{}/{}", c.causation_id, job_id, index));
}

// The dispatch hint for a job that became claimable now.
void Dispatch(const std::string& job_id, const std::string& job_type, int priority, const JobEvent& event,
              std::int64_t now_us, std::vector<events::QueueItem>& out) {
  bool claimable = std::holds_alternative<v1::JobRequested>(event);
  if (const auto* retry = std::get_if<v1::JobRetryScheduled>(&event)) claimable = retry->not_before_us() <= now_us;
  if (claimable) out.push_back({"jobs:" + job_type, job_id, priority > 0});
}

base::Result<v1::JobRequested> BuildRequest(const SubmitOptions& o, const CommandContext& context) {
  if (auto ok = ValidatePayload(o.job_type, o.payload); !ok) return std::unexpected(ok.error());
  if (!o.parent_job_id.empty() && !base::IsUuid(o.parent_job_id))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("parent job id '{}' is not a UUID", o.parent_job_id));
  v1::JobRequested r;
  r.set_job_type(o.job_type);
  auto status = google::protobuf::util::JsonStringToMessage(boost::json::serialize(o.payload), r.mutable_payload());
  if (!status.ok()) return Fail(ErrorCode::kInvalidArgument, fmt::format("payload: {}", status.ToString()));
  r.set_priority(o.priority);
  r.set_max_attempts(o.max_attempts);
  r.set_lease_ms(o.lease_ms);
  r.set_schedule_to_start_timeout_ms(o.schedule_to_start_timeout_ms);
  r.set_start_to_close_timeout_ms(o.start_to_close_timeout_ms);
  r.set_idempotency_key(o.idempotency_key);
  r.set_parent_job_id(o.parent_job_id);
  r.set_project_id(o.project_id);
  r.set_requested_by(context.actor);
  return r;
}

}  // namespace

std::string JobStream(const std::string& job_id) { return "job-" + job_id; }

std::string JobService::ChildJobId(const std::string& parent_job_id, int attempt, size_t index) {
  return base::UuidFromName(kChildIdSpace, fmt::format("{}/{}/{}", parent_job_id, attempt, index));
}

base::Result<JobState> JobService::Load(const std::string& job_id) {
  if (!base::IsUuid(job_id))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' is not a job id (a UUID)", job_id));
  std::vector<events::RecordedEvent> all;
  for (std::int64_t from = 1;;) {
    auto batch = store_.ReadStream(JobStream(job_id), from, events::Direction::kForward, 1000);
    if (!batch) return std::unexpected(batch.error());
    all.insert(all.end(), batch->begin(), batch->end());
    if (batch->size() < 1000) break;
    from = batch->back().stream_version + 1;
  }
  return Replay(all);
}

base::Result<std::map<std::string, JobState>> JobService::LoadMany(std::span<const std::string> job_ids) {
  std::vector<std::string> streams;
  for (const auto& id : job_ids)
    if (base::IsUuid(id)) streams.push_back(JobStream(id));
  auto read = store_.ReadStreams(streams);
  if (!read) return std::unexpected(read.error());
  std::map<std::string, JobState> out;
  for (const auto& id : job_ids) {
    if (!base::IsUuid(id)) continue;  // not a job id: nothing to load
    auto state = Replay(read->at(JobStream(id)));
    if (!state) {
      base::log::Warn("cannot replay a job; skipping it", {{"job", id}, {"error", state.error().message}});
      continue;
    }
    out[id] = std::move(*state);
  }
  return out;
}

base::Result<std::map<std::string, JobState>> JobService::ClaimMany(const std::map<std::string, JobState>& states,
                                                                    const std::string& worker,
                                                                    const CommandContext& context) {
  std::vector<events::StreamExpectation> expectations;
  std::vector<events::NewEvent> batch;
  std::vector<std::pair<std::string, JobEvent>> decided;
  for (const auto& [id, state] : states) {
    auto events = Decide(state, ClaimJob{worker, context.now_us});
    if (!events) return std::unexpected(events.error());
    expectations.push_back({JobStream(id), events::ExpectedVersion::Exactly(state.version)});
    batch.push_back(
        events::MakeEventFromMessage(JobStream(id), Payload(events->front()), Metadata(context), EventId(context, id, 0)));
    decided.emplace_back(id, std::move(events->front()));
  }
  auto appended = store_.Append(expectations, batch);
  if (!appended) return std::unexpected(appended.error());
  std::map<std::string, JobState> out;
  for (const auto& e : appended->events) {
    const std::string id = e.stream_id.substr(4);
    for (const auto& [job, event] : decided)
      if (job == id) out[id] = Evolve(states.at(id), event, e.stream_version, context.now_us);
  }
  return out;
}

base::Result<JobState> JobService::Execute(const std::string& job_id, const Command& command,
                                           const CommandContext& context) {
  auto state = Load(job_id);
  if (!state) return state;
  return ExecuteOn(job_id, *state, command, context);
}

base::Result<JobState> JobService::ExecuteOn(const std::string& job_id, const JobState& state,
                                             const Command& command, const CommandContext& context) {
  auto decided = Decide(state, command);
  if (!decided) return std::unexpected(decided.error());
  if (decided->empty()) return state;

  const std::string stream = JobStream(job_id);
  std::string job_type = state.job_type;
  int priority = 0;
  if (const auto* requested = std::get_if<v1::JobRequested>(&decided->front())) {
    job_type = requested->job_type();
    priority = requested->priority();
  }
  std::vector<events::NewEvent> batch;
  events::AppendOptions options;
  for (size_t i = 0; i < decided->size(); ++i) {
    batch.push_back(
        events::MakeEventFromMessage(stream, Payload((*decided)[i]), Metadata(context), EventId(context, job_id, i)));
    Dispatch(job_id, job_type, priority, (*decided)[i], context.now_us, options.queue_items);
  }
  auto appended = store_.Append(stream,
                                state.version == 0 ? events::ExpectedVersion::NoStream()
                                                   : events::ExpectedVersion::Exactly(state.version),
                                batch, options);
  if (!appended) return std::unexpected(appended.error());
  JobState next = state;
  for (size_t i = 0; i < decided->size(); ++i)
    next = Evolve(next, (*decided)[i], appended->events[i].stream_version, context.now_us);
  return next;
}

base::Result<JobState> JobService::FanOut(const std::string& job_id, const JobState& state, const std::string& worker,
                                          int attempt, const std::vector<SubmitOptions>& children,
                                          const CommandContext& context) {
  if (state.cancel_requested) return ExecuteOn(job_id, state, AcknowledgeCancel{worker, attempt}, context);
  AwaitChildren await{worker, attempt, {}};
  std::vector<v1::JobRequested> requests;
  for (size_t i = 0; i < children.size(); ++i) {
    SubmitOptions child = children[i];
    child.parent_job_id = job_id;
    auto request = BuildRequest(child, context);
    if (!request) return std::unexpected(request.error());
    if (request->max_attempts() == 0) request->set_max_attempts(3);
    if (request->lease_ms() == 0) request->set_lease_ms(30000);
    requests.push_back(std::move(*request));
    await.child_ids.push_back(ChildJobId(job_id, attempt, i));
  }
  auto decided = Decide(state, await);
  if (!decided) return std::unexpected(decided.error());

  std::vector<events::StreamExpectation> expectations = {
      {JobStream(job_id), events::ExpectedVersion::Exactly(state.version)}};
  std::vector<events::NewEvent> batch;
  events::AppendOptions options;
  batch.push_back(
      events::MakeEventFromMessage(JobStream(job_id), Payload(decided->front()), Metadata(context),
                                   EventId(context, job_id, 0)));
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string& child_id = await.child_ids[i];
    expectations.push_back({JobStream(child_id), events::ExpectedVersion::NoStream()});
    batch.push_back(events::MakeEventFromMessage(JobStream(child_id), requests[i], Metadata(context),
                                                 EventId(context, child_id, 0)));
    options.queue_items.push_back({"jobs:" + requests[i].job_type(), child_id, requests[i].priority() > 0});
  }
  auto appended = store_.Append(expectations, batch, options);
  if (!appended) return std::unexpected(appended.error());
  for (const auto& e : appended->events)
    if (e.stream_id == JobStream(job_id)) return Evolve(state, decided->front(), e.stream_version, context.now_us);
  return Fail(ErrorCode::kInternal, "the fan-out append did not return the parent's event");
}

base::Result<Submitted> JobService::Submit(const SubmitOptions& o, const CommandContext& context) {
  auto request = BuildRequest(o, context);
  if (!request) return std::unexpected(request.error());
  const std::string job_id =
      o.idempotency_key.empty() ? base::NewUuid() : base::UuidFromName(kJobIdSpace, o.idempotency_key);
  // One append expecting no stream: a job with this key that exists already
  // (requested before, or by a racing request) makes it conflict.
  auto after = ExecuteOn(job_id, JobState{}, RequestJob{*request, context.now_us}, context);
  if (after) return Submitted{job_id, true};
  if (after.error().code == ErrorCode::kConflict && !o.idempotency_key.empty()) return Submitted{job_id, false};
  return std::unexpected(after.error());
}

}  // namespace furrsight::orchestrator::jobs
