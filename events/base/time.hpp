// ISO 8601 times as the CLI, the API and job payloads take them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace furrsight::base {

// Microseconds since the Unix epoch of "2026-11-22T10:00:00Z" (a space for
// the T, fractional seconds and ±hh:mm offsets allowed); nullopt otherwise.
std::optional<std::int64_t> ParseIsoTimeUs(std::string_view text);

}  // namespace furrsight::base
