// A small JSON Schema validator for the subset FurrSight's structured answers
// use: type (object, array, string, number, integer, boolean, null, or an
// array of them), properties, required, additionalProperties: false, items,
// minItems/maxItems, minLength/maxLength, minimum/maximum, enum. Keywords
// outside the subset are refused when the schema is checked (CheckSchema), so a
// schema never silently means less than it says.
//
// The server is asked to follow the schema (response_format json_schema,
// strict), but the answer is checked here again: a server that ignores the
// schema, a truncated answer or another model server must not get through.
// Free functions over boost::json values; thread-safe.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "events/base/error.hpp"

namespace furrsight::workers::inference {

// kInvalidArgument naming the first keyword outside the subset, or a malformed one.
base::Result<void> CheckSchema(const boost::json::value& schema);

// kInvalidArgument naming the first violation by its path:
// "$.confidence: 1.7 is above the maximum 1", "$: required property \"breed\" is missing".
base::Result<void> ValidateJson(const boost::json::value& value, const boost::json::value& schema);

}  // namespace furrsight::workers::inference
