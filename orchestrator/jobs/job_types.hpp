// The job types and the shape of each one's payload. A request whose
// payload does not fit is refused with a message naming the field.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"

namespace furrsight::orchestrator::jobs {

struct JobTypeSpec {
  std::string_view name;     // "SCRAPE_URL"
  std::string_view summary;  // what it does and the payload it takes
};

std::span<const JobTypeSpec> JobTypes();
const JobTypeSpec* FindJobType(std::string_view name);

// Checks `payload` against the type's schema; kInvalidArgument names the problem.
base::Result<void> ValidatePayload(std::string_view job_type, const boost::json::object& payload);

// The key a per-key concurrency limit counts by: payload.concurrency_key when
// given, else the target host for SCRAPE_URL (its first URL's; "search" for
// query-only crawls), else "" (the worker may supply one, e.g. its model endpoint).
std::string ConcurrencyKey(std::string_view job_type, const boost::json::object& payload);

}  // namespace furrsight::orchestrator::jobs
