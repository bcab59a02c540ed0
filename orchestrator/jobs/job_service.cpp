#include "orchestrator/jobs/job_service.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "events/base/uuid.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::orchestrator::jobs {
namespace {

using base::ErrorCode;
using base::Fail;

// Derives ids from a name space of their own.
inline constexpr std::string_view kJobIdSpace = "furrsight.job.idempotency-key";
inline constexpr std::string_view kEventIdSpace = "furrsight.job.command";

}  // namespace

std::string JobStream(const std::string& job_id) { return "job-" + job_id; }

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

base::Result<JobState> JobService::Execute(const std::string& job_id, const Command& command,
                                           const CommandContext& context) {
  auto state = Load(job_id);
  if (!state) return state;
  auto decided = Decide(*state, command);
  if (!decided) return std::unexpected(decided.error());
  if (decided->empty()) return state;

  const std::string stream = JobStream(job_id);
  std::vector<events::NewEvent> batch;
  for (size_t i = 0; i < decided->size(); ++i)
    batch.push_back(events::MakeEventFromMessage(
        stream, Payload((*decided)[i]),
        {context.actor, context.correlation_id, context.causation_id, context.source},
        base::UuidFromName(kEventIdSpace, fmt::format("{}/{}/{}", context.causation_id, job_id, i))));
  std::string job_type = state->job_type;
  if (const auto* requested = std::get_if<v1::JobRequested>(&decided->front())) job_type = requested->job_type();
  auto appended = store_.Append(stream,
                                state->version == 0 ? events::ExpectedVersion::NoStream()
                                                    : events::ExpectedVersion::Exactly(state->version),
                                batch, {.wake_channels = {"jobs:" + job_type}});
  if (!appended) return std::unexpected(appended.error());
  JobState next = *state;
  for (size_t i = 0; i < decided->size(); ++i)
    next = Evolve(next, (*decided)[i], appended->events[i].stream_version, context.now_us);
  return next;
}

base::Result<Submitted> JobService::Submit(const SubmitOptions& o, const CommandContext& context) {
  if (auto ok = ValidatePayload(o.job_type, o.payload); !ok) return std::unexpected(ok.error());
  if (!o.parent_job_id.empty() && !base::IsUuid(o.parent_job_id))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("parent job id '{}' is not a UUID", o.parent_job_id));
  RequestJob request;
  request.now_us = context.now_us;
  v1::JobRequested& r = request.request;
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

  const std::string job_id =
      o.idempotency_key.empty() ? base::NewUuid() : base::UuidFromName(kJobIdSpace, o.idempotency_key);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto before = Load(job_id);
    if (!before) return std::unexpected(before.error());
    if (before->status != JobStatus::kNone) return Submitted{job_id, false};
    auto after = Execute(job_id, request, context);
    if (after) return Submitted{job_id, true};
    if (after.error().code != ErrorCode::kConflict) return std::unexpected(after.error());
    // Another request with the same key won the race: it is the same job.
  }
  return Submitted{job_id, false};
}

}  // namespace furrsight::orchestrator::jobs
