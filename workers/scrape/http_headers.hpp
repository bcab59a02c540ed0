// Small parsers for the response headers the fetcher acts on. Pure functions:
// thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace furrsight::workers {

// Retry-After: delta-seconds ("120") or an HTTP-date, as a wait from `now`
// (zero for a date in the past); nullopt when it is neither.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value,
                                                    std::chrono::system_clock::time_point now);

// "Text/HTML; charset=utf-8" -> "text/html".
std::string MediaTypeOf(std::string_view content_type);

}  // namespace furrsight::workers
