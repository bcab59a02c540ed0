#include "workers/runtime/worker.hpp"

#include <algorithm>
#include <random>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/util/json_util.h>

#include "events/base/log.hpp"
#include "events/base/uuid.hpp"
#include "orchestrator/jobs/job_types.hpp"

namespace furrsight::workers {
namespace {

namespace jobs = orchestrator::jobs;
namespace v1 = ::furrsight::events::v1;
using Clock = std::chrono::steady_clock;
using base::ErrorCode;

constexpr auto kRenewTick = std::chrono::milliseconds(50);
constexpr auto kHardStop = std::chrono::seconds(3);     // after the grace: how long handlers get to notice the stop
constexpr auto kDeferredFor = std::chrono::seconds(10);  // a limit-blocked id is retried this long, then left to polling
constexpr int kRecordTries = 6;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool Claimable(const jobs::JobState& s) {
  return (s.status == jobs::JobStatus::kPending || s.status == jobs::JobStatus::kWaitingRetry) &&
         !s.cancel_requested;
}

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone: return "none";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kLeaseLost: return "lease lost";
    case StopReason::kShutdown: return "shutdown";
  }
  return "?";
}

std::string JobHandler::ConcurrencyKey(const boost::json::object& payload) const {
  return jobs::ConcurrencyKey(job_type(), payload);
}

struct Worker::Running {
  // Set at the claim, then read-only.
  std::string id;
  std::string job_type;
  int attempt = 0;
  boost::json::object payload;
  JobHandler* handler = nullptr;
  std::optional<LimitLocks::Held> held;
  std::atomic<StopReason> stop{StopReason::kNone};
  std::mutex sleep_mu;
  std::condition_variable wake;  // the stop reason changed

  std::timed_mutex mu;  // serialises this job's appends and guards the members below
  bool finished = false;  // the outcome was handled: the renewer leaves the job alone
  jobs::JobState state;
  Clock::time_point next_renew;
  Clock::time_point last_progress{};
  std::optional<jobs::ReportProgress> pending_progress;

  // A lost lease overrides any other reason, and a cancel overrides a shutdown
  // (the job then ends cancelled instead of being given back).
  void Stop(StopReason reason) {
    StopReason now = stop.load();
    do {
      const bool overrides = now == StopReason::kNone || reason == StopReason::kLeaseLost ||
                             (reason == StopReason::kCancelled && now == StopReason::kShutdown);
      if (!overrides) return;
    } while (!stop.compare_exchange_weak(now, reason));
    std::lock_guard lock(sleep_mu);
    wake.notify_all();
  }
};

// The JobContext a handler sees for one attempt.
class Worker::Attempt final : public JobContext {
 public:
  Attempt(Worker& worker, Running& job) : worker_(worker), job_(job), context_(worker.Context(job.id)) {}

  const std::string& job_id() const override { return job_.id; }
  const std::string& job_type() const override { return job_.job_type; }
  int attempt() const override { return job_.attempt; }
  const boost::json::object& payload() const override { return job_.payload; }
  const jobs::CommandContext& command_context() const override { return context_; }
  StopReason stop_reason() const override { return job_.stop.load(); }

  bool SleepFor(std::chrono::milliseconds duration) override {
    std::unique_lock lock(job_.sleep_mu);
    return !job_.wake.wait_for(lock, duration, [&] { return job_.stop.load() != StopReason::kNone; });
  }

  void Progress(int percent, std::map<std::string, std::int64_t> counters, std::string message) override {
    jobs::ReportProgress report{worker_.options_.name, job_.attempt, {}};
    report.progress.set_progress(percent);
    for (const auto& [k, v] : counters) (*report.progress.mutable_counters())[k] = v;
    report.progress.set_message(std::move(message));
    std::lock_guard lock(job_.mu);
    job_.pending_progress = std::move(report);
    if (Clock::now() - job_.last_progress >= worker_.options_.progress_every) worker_.FlushProgress(job_);
  }

 private:
  Worker& worker_;
  Running& job_;
  const jobs::CommandContext context_;
};

Worker::Worker(WorkerOptions options, events::EventStore& store, std::vector<JobHandler*> handlers,
               LimitLocks* limits, std::unique_ptr<JobQueue> queue)
    : options_(std::move(options)), store_(store), service_(store), limits_(limits), queue_(std::move(queue)) {
  for (JobHandler* h : handlers) {
    handlers_[std::string(h->job_type())] = h;
    job_types_.emplace_back(h->job_type());
  }
}

Worker::~Worker() {
  RequestStop();
  for (auto& t : executors_)
    if (t.joinable()) t.detach();
  if (renewer_.joinable()) renewer_.detach();
}

void Worker::RequestStop() {
  std::lock_guard lock(mu_);
  stop_requested_ = true;
  changed_.notify_all();
}

jobs::CommandContext Worker::Context(const std::string& job_id) const {
  std::string causation = base::NewUuid();
  return {"worker:" + options_.name, job_id, causation, "worker", NowUs()};
}

std::vector<std::shared_ptr<Worker::Running>> Worker::Snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Running>> out;
  for (const auto& [id, job] : running_) out.push_back(job);
  return out;
}

void Worker::Run() {
  base::log::Info("worker started", {{"worker", options_.name},
                                     {"slots", std::to_string(options_.slots)},
                                     {"job_types", fmt::format("{}", fmt::join(job_types_, ","))}});
  for (int i = 0; i < options_.slots; ++i) executors_.emplace_back([this] { ExecutorLoop(); });
  renewer_ = std::thread([this] { RenewLoop(); });

  std::mt19937 rng(std::random_device{}());
  auto next_poll = Clock::now();
  std::uint64_t freed_seen = 0;
  std::string poll_error;
  for (;;) {
    int free = 0;
    bool retry_deferred = false;
    {
      std::unique_lock lock(mu_);
      changed_.wait_for(lock, options_.poll_interval, [&] { return stop_requested_ || active_ < options_.slots; });
      if (stop_requested_) break;
      free = options_.slots - active_;
      retry_deferred = slots_freed_ != freed_seen;
      freed_seen = slots_freed_;
    }
    if (free <= 0) continue;

    std::vector<std::string> ids;
    const auto now = Clock::now();
    std::erase_if(deferred_, [&](const auto& d) { return now - d.second > kDeferredFor; });
    if (retry_deferred || now >= next_poll)
      for (const auto& [id, since] : deferred_) ids.push_back(id);
    if (now >= next_poll) {
      next_poll = now + options_.poll_interval;
      auto found = ClaimableJobs(store_.pool(), job_types_, free * 2);
      if (found) {
        std::shuffle(found->begin(), found->end(), rng);  // workers polling together pick different jobs first
        ids.insert(ids.end(), found->begin(), found->end());
        poll_error.clear();
      } else if (found.error().message != poll_error) {  // say it once, not every poll
        poll_error = found.error().message;
        base::log::Warn("cannot poll the jobs read model (is `furrsight projections run` running?); retrying",
                        {{"error", poll_error}});
      }
    }
    // Limit-blocked jobs beyond one slot's worth stay in Redis for other workers;
    // then wait for a freed slot or the next poll instead of spinning.
    if (ids.empty() && static_cast<int>(deferred_.size()) >= options_.slots) {
      std::unique_lock lock(mu_);
      changed_.wait_until(lock, next_poll, [&] { return stop_requested_ || slots_freed_ != freed_seen; });
      continue;
    }
    if (ids.empty()) {
      const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - Clock::now()),
                                   std::chrono::milliseconds(1), options_.poll_interval);
      if (queue_) {
        auto popped = queue_->Pop(free, wait);
        if (popped) ids = std::move(*popped);
        else {
          base::log::Debug("job queue unavailable; polling", {{"error", popped.error().message}});
          std::unique_lock lock(mu_);
          changed_.wait_for(lock, wait, [&] { return stop_requested_; });
        }
      } else {
        std::unique_lock lock(mu_);
        changed_.wait_for(lock, wait, [&] { return stop_requested_; });
      }
    }
    ClaimBatch(ids, free);
  }
  Shutdown();
}

int Worker::ClaimBatch(const std::vector<std::string>& candidates, int free) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& id : candidates)
      if (!running_.contains(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  if (ids.empty()) return 0;
  auto states = service_.LoadMany(ids);
  if (!states) {
    base::log::Debug("cannot load jobs to claim", {{"error", states.error().message}});
    return 0;
  }
  // In the order found (priority from the poll, FIFO from the queue), as many as there are free slots.
  std::map<std::string, jobs::JobState> chosen;
  std::map<std::string, LimitLocks::Held> held;
  const std::int64_t now_us = NowUs();
  for (const auto& id : ids) {
    if (static_cast<int>(chosen.size()) >= free) break;
    jobs::JobState& state = states->at(id);
    if (!Claimable(state) || state.not_before_us > now_us) {
      deferred_.erase(id);
      if (state.status != jobs::JobStatus::kPending && state.status != jobs::JobStatus::kWaitingRetry) ++stats_.claim_misses;
      continue;
    }
    auto handler = handlers_.find(state.job_type);
    if (handler == handlers_.end()) continue;
    if (limits_ != nullptr && limits_->limits().Limits(state.job_type)) {
      auto got = limits_->TryAcquire(state.job_type, handler->second->ConcurrencyKey(state.payload));
      if (!got || !*got) {
        if (!got) base::log::Warn("concurrency limits unavailable", {{"error", got.error().message}});
        deferred_.try_emplace(id, Clock::now());
        continue;
      }
      held[id] = std::move(**got);
    }
    chosen[id] = state;
  }
  if (chosen.empty()) return 0;

  // One append for the lot; if one of them moved meanwhile, one by one.
  std::map<std::string, jobs::JobState> claimed;
  if (chosen.size() > 1) {
    auto all = service_.ClaimMany(chosen, options_.name, Context("claims"));
    if (all) claimed = std::move(*all);
  }
  if (claimed.empty()) {
    for (const auto& [id, state] : chosen) {
      const auto context = Context(id);
      auto one = service_.ExecuteOn(id, state, jobs::ClaimJob{options_.name, context.now_us}, context);
      if (one) claimed[id] = std::move(*one);
      else if (one.error().code == ErrorCode::kConflict) ++stats_.claim_misses;
      else base::log::Warn("claim failed", {{"job", id}, {"error", one.error().message}});
    }
  }
  for (auto& [id, state] : chosen) {
    auto it = claimed.find(id);
    if (it == claimed.end()) {
      if (auto h = held.find(id); h != held.end()) limits_->Release(h->second);
      continue;
    }
    deferred_.erase(id);
    auto job = std::make_shared<Running>();
    job->id = id;
    job->handler = handlers_.at(state.job_type);
    if (auto h = held.find(id); h != held.end()) job->held = std::move(h->second);
    job->job_type = state.job_type;
    job->payload = std::move(state.payload);
    job->state = std::move(it->second);
    job->attempt = job->state.attempt;
    job->next_renew = Clock::now() + std::chrono::milliseconds(job->state.lease_ms / 3);
    ++stats_.claimed;
    std::lock_guard lock(mu_);
    ++active_;
    running_[id] = job;
    ready_.push_back(std::move(job));
    changed_.notify_all();
  }
  return static_cast<int>(claimed.size());
}

void Worker::ExecutorLoop() {
  for (;;) {
    std::shared_ptr<Running> job;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return executors_exit_ || !ready_.empty(); });
      if (ready_.empty()) return;
      job = std::move(ready_.front());
      ready_.pop_front();
    }
    Attempt attempt(*this, *job);
    JobOutcome outcome;
    try {
      outcome = job->handler->Run(attempt);
    } catch (const std::exception& e) {
      outcome = Failed{fmt::format("the {} handler failed unexpectedly: {}", job->job_type, e.what()), true};
    }
    try {
      Finish(*job, std::move(outcome));
    } catch (const std::exception& e) {  // a bug: the lease lapses and the scheduler retries the job
      base::log::Error("recording a job's outcome failed unexpectedly", {{"job", job->id}, {"error", e.what()}});
    }
    if (job->held) limits_->Release(*job->held);
    std::lock_guard lock(mu_);
    running_.erase(job->id);
    --active_;
    ++slots_freed_;
    changed_.notify_all();
  }
}

void Worker::Finish(Running& job, JobOutcome outcome) {
  std::lock_guard lock(job.mu);
  struct MarkFinished {
    Running& job;
    ~MarkFinished() { job.finished = true; }
  } mark{job};
  const int attempt = job.attempt;
  const std::string& me = options_.name;
  // One causation per outcome: a re-sent append after a lost acknowledgement is a duplicate, not a new event.
  auto context = Context(job.id);
  for (int tries = 0; tries < kRecordTries; ++tries) {
    const StopReason stop = job.stop.load();
    if (stop == StopReason::kLeaseLost) {
      ++stats_.abandoned;
      base::log::Warn("lease lost: the outcome is not recorded (the job may run elsewhere)",
                      {{"job", job.id}, {"attempt", std::to_string(attempt)}});
      return;
    }
    base::Result<jobs::JobState> recorded = std::unexpected(base::Error{});
    std::atomic<std::uint64_t>* counter = nullptr;
    if (auto* done = std::get_if<Completed>(&outcome)) {
      jobs::CompleteJob complete{me, attempt, {}};
      auto status = google::protobuf::util::JsonStringToMessage(boost::json::serialize(done->result),
                                                                complete.completion.mutable_result());
      if (!status.ok()) {
        outcome = Failed{fmt::format("the handler's result is not a JSON object: {}", status.ToString()), false};
        context = Context(job.id);
        --tries;
        continue;
      }
      recorded = service_.ExecuteOn(job.id, job.state, complete, context);
      counter = &stats_.completed;
    } else if (auto* fan = std::get_if<FannedOut>(&outcome)) {
      recorded = service_.FanOut(job.id, job.state, me, attempt, fan->children, context);
      counter = &stats_.fanned_out;
    } else if (auto* failed = std::get_if<Failed>(&outcome)) {
      recorded = service_.ExecuteOn(job.id, job.state,
                                    jobs::FailJob{me, attempt, failed->error, failed->retryable, context.now_us, Jitter()},
                                    context);
      counter = &stats_.failed;
    } else if (stop == StopReason::kCancelled) {
      recorded = service_.ExecuteOn(job.id, job.state, jobs::AcknowledgeCancel{me, attempt}, context);
      counter = &stats_.cancelled;
    } else if (stop == StopReason::kShutdown) {
      recorded = service_.ExecuteOn(job.id, job.state,
                                    jobs::ReleaseJob{me, attempt, context.now_us, "given back by " + me + " (shutdown)"},
                                    context);
      counter = &stats_.released;
    } else {
      outcome = Failed{"the handler stopped without being asked to", true};
      context = Context(job.id);
      --tries;
      continue;
    }
    if (recorded) {
      job.state = std::move(*recorded);
      ++*counter;
      return;
    }
    const base::Error error = recorded.error();
    if (error.code == ErrorCode::kConflict) {
      // Someone else appended (a cancel request, the scheduler): do we still hold the job?
      auto now = service_.Load(job.id);
      if (now) {
        bool holds = now->status == jobs::JobStatus::kInProgress && now->worker == me && now->attempt == attempt;
        if (!holds) job.Stop(StopReason::kLeaseLost);
        else if (now->cancel_requested && std::holds_alternative<Stopped>(outcome)) job.Stop(StopReason::kCancelled);
        job.state = std::move(*now);
      }
      continue;
    }
    if (error.code == ErrorCode::kInvalidArgument) {
      // The outcome itself is bad (e.g. a fan-out child with a bad payload): fail the job for good.
      outcome = Failed{error.message, false};
      context = Context(job.id);
      continue;
    }
    if (error.code != ErrorCode::kUnavailable) {
      base::log::Error("could not record a job's outcome", {{"job", job.id}, {"error", error.message}});
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250) * (tries + 1));  // PostgreSQL restarting
  }
  base::log::Error("gave up recording a job's outcome; its lease will lapse and the scheduler will retry it",
                   {{"job", job.id}});
}

void Worker::FlushProgress(Running& job) {
  if (!job.pending_progress || job.stop.load() != StopReason::kNone) return;
  const auto context = Context(job.id);
  auto r = service_.ExecuteOn(job.id, job.state, *job.pending_progress, context);
  job.last_progress = Clock::now();
  if (r) {
    job.state = std::move(*r);
    job.pending_progress.reset();
  } else if (r.error().code == ErrorCode::kConflict) {
    job.next_renew = Clock::now();  // the renewal finds out what happened
  }
}

void Worker::Renew(Running& job) {
  const auto context = Context(job.id);
  auto r = service_.ExecuteOn(job.id, job.state, jobs::RenewLease{options_.name, job.attempt, context.now_us},
                              context);
  if (r) {
    job.state = std::move(*r);
    job.next_renew = Clock::now() + std::chrono::milliseconds(std::max<std::int64_t>(job.state.lease_ms / 3, 10));
    return;
  }
  if (r.error().code != ErrorCode::kConflict) {
    job.next_renew = Clock::now() + std::chrono::milliseconds(200);  // PostgreSQL away: try again soon
    return;
  }
  auto now = service_.Load(job.id);
  if (!now) return;
  const bool holds =
      now->status == jobs::JobStatus::kInProgress && now->worker == options_.name && now->attempt == job.attempt;
  job.state = std::move(*now);
  if (!holds) {
    base::log::Warn("lease lost; stopping the job", {{"job", job.id}, {"status", std::string(StatusName(job.state.status))}});
    job.Stop(StopReason::kLeaseLost);
  } else if (job.state.cancel_requested) {
    base::log::Info("job cancelled; stopping it", {{"job", job.id}});
    job.Stop(StopReason::kCancelled);
  }
}

void Worker::RenewLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (changed_.wait_for(lock, kRenewTick, [&] { return renewer_exit_; })) return;
    }
    for (const auto& job : Snapshot()) {
      std::unique_lock lock(job->mu, std::try_to_lock);
      if (!lock.owns_lock() || job->finished || job->stop.load() == StopReason::kLeaseLost) continue;
      try {
        if (Clock::now() >= job->next_renew) Renew(*job);
        else if (job->pending_progress && Clock::now() - job->last_progress >= options_.progress_every)
          FlushProgress(*job);
      } catch (const std::exception& e) {  // a bug, not an expected failure: say so and keep renewing the others
        base::log::Error("lease renewal failed unexpectedly", {{"job", job->id}, {"error", e.what()}});
      }
    }
  }
}

void Worker::Shutdown() {
  base::log::Info("worker stopping: no more claims", {{"worker", options_.name}});
  auto idle = [&] { return active_ == 0; };
  {
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, options_.grace, idle)) {
      base::log::Info("grace period over; giving back running jobs", {{"running", std::to_string(active_)}});
      for (const auto& [id, job] : running_) job->Stop(StopReason::kShutdown);
      if (!changed_.wait_for(lock, kHardStop, idle)) {
        // Handlers that ignore the stop: give their jobs back ourselves; their late outcome is then refused.
        auto stuck = running_;
        lock.unlock();
        for (const auto& [id, job] : stuck) {
          std::unique_lock job_lock(job->mu, std::chrono::seconds(1));
          if (!job_lock.owns_lock()) continue;  // busy in an append that hangs: its lease will lapse
          const auto context = Context(id);
          auto r = service_.ExecuteOn(id, job->state,
                                      jobs::ReleaseJob{options_.name, job->attempt, context.now_us,
                                                       "given back by " + options_.name + " (handler did not stop)"},
                                      context);
          if (r) ++stats_.released;
          job->Stop(StopReason::kLeaseLost);
        }
        stuck_ = true;
        lock.lock();
      }
    }
    executors_exit_ = true;
    renewer_exit_ = true;
    changed_.notify_all();
  }
  renewer_.join();
  for (auto& t : executors_) {
    if (stuck_) t.detach();
    else t.join();
  }
  executors_.clear();
  base::log::Info("worker stopped",
                  {{"worker", options_.name}, {"claimed", std::to_string(stats_.claimed.load())},
                   {"completed", std::to_string(stats_.completed.load())},
                   {"released", std::to_string(stats_.released.load())},
                   {"abandoned", std::to_string(stats_.abandoned.load())}});
}

}  // namespace furrsight::workers
