// Error: the value every expected failure is returned as (LevelDB's Status,
// in std::expected form). Exceptions are kept for bugs and for third-party
// libraries; each boundary that calls one converts to Error.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace furrsight::base {

enum class ErrorCode {
  kInvalidArgument,  // the caller's input is wrong; retrying will not help
  kNotFound,
  kConflict,         // an optimistic-concurrency check failed (see VersionConflict)
  kUnavailable,      // a dependency (database, Redis, a remote server) is unreachable
  kTimeout,
  kFailedPrecondition,  // the system is not in a state that allows this
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

// The detail of a kConflict from the event store: which stream, what the
// caller expected and what the stream actually was.
struct VersionConflict {
  std::string stream_id;
  std::string expected;  // "any", "no_stream" or a version number
  std::int64_t actual = 0;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::optional<VersionConflict> conflict;

  // "conflict: stream job-1 expected version 3 but is at 4"
  std::string ToString() const;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message), std::nullopt});
}

}  // namespace furrsight::base
