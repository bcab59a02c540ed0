// NoopHandler: the NOOP job type, for tests, benchmarks and health checks.
// It exercises every path of the runtime from its payload:
//   sleep_ms        work that long (stops early when asked)
//   sleep_attempts  sleep only in attempts up to this number (0: in every attempt)
//   progress_steps  report progress this many times while sleeping
//   fail_attempts   fail (retryable) while the attempt number is at most this
//   fail_final      fail for good (not retryable)
//   children        fan out into this many NOOP children (each sleeps sleep_ms)
//   result          copied into the job's result
// The result names the worker and attempt that completed the job. Stateless.
#pragma once

#include "workers/runtime/job_handler.hpp"

namespace furrsight::workers {

class NoopHandler final : public JobHandler {
 public:
  std::string_view job_type() const override { return "NOOP"; }
  JobOutcome Run(JobContext& context) override;
};

}  // namespace furrsight::workers
