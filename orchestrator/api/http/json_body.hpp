// JSON request bodies and path parameters, checked with messages a person can
// act on. Every failure is kInvalidArgument (the Router answers 400
// invalid_argument). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"

namespace furrsight::api {

// The body as a JSON object whose members are all in `allowed_fields`:
// "request body is not valid JSON: <reason> at byte 17", "request body must
// be a JSON object, got array", "unknown field 'foo'; allowed: a, b".
base::Result<boost::json::object> ParseJsonObject(std::string_view body,
                                                  std::span<const std::string_view> allowed_fields);

// Typed members. A member that is absent or null is "not given": an error for
// RequiredString, std::nullopt for the others. A wrong type is an error:
// "field 'limit' must be an integer, got string".
base::Result<std::string> RequiredString(const boost::json::object& object, std::string_view field);
base::Result<std::optional<std::string>> OptionalString(const boost::json::object& object, std::string_view field);
base::Result<std::optional<std::int64_t>> OptionalInt(const boost::json::object& object, std::string_view field);
base::Result<std::optional<bool>> OptionalBool(const boost::json::object& object, std::string_view field);
base::Result<std::optional<std::vector<std::string>>> OptionalStringArray(const boost::json::object& object,
                                                                          std::string_view field);

// A path parameter that must be a UUID, returned in lower case.
base::Result<std::string> ParseUuidParam(std::string_view text);

}  // namespace furrsight::api
