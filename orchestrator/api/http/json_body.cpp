#include "orchestrator/api/http/json_body.hpp"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json/parser.hpp>

#include "events/base/uuid.hpp"

namespace furrsight::api {
namespace {

constexpr std::size_t kMaxShownValue = 64;

std::string_view KindName(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "integer";
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "unknown";
}

std::unexpected<base::Error> WrongType(std::string_view field, std::string_view wanted, const boost::json::value& got) {
  return base::Fail(base::ErrorCode::kInvalidArgument,
                    fmt::format("field '{}' must be {}, got {}", field, wanted, KindName(got)));
}

// The member, or nullptr when it is absent or null.
const boost::json::value* Given(const boost::json::object& object, std::string_view field) {
  const boost::json::value* value = object.if_contains(field);
  if (value == nullptr || value->is_null()) return nullptr;
  return value;
}

// Printable, bounded form of untrusted text for an error message.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxShownValue)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > kMaxShownValue) out += "...";
  return out;
}

// Where the first string or key holding a NUL character is, relative to
// `value` (".note", ".payload.urls[2]"; "" for `value` itself), or nothing.
// The path is built only on the way back from a hit.
std::optional<std::string> FirstNul(const boost::json::value& value) {
  if (value.is_string())
    return value.get_string().find('\0') != boost::json::string::npos ? std::optional<std::string>("") : std::nullopt;
  if (value.is_array()) {
    const auto& array = value.get_array();
    for (std::size_t i = 0; i < array.size(); ++i)
      if (auto found = FirstNul(array[i])) return fmt::format("[{}]{}", i, *found);
  }
  if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      if (member.key().find('\0') != boost::json::string_view::npos) return "." + Shown(member.key());
      if (auto found = FirstNul(member.value())) return fmt::format(".{}{}", Shown(member.key()), *found);
    }
  }
  return std::nullopt;
}

}  // namespace

base::Result<boost::json::object> ParseJsonObject(std::string_view body,
                                                  std::span<const std::string_view> allowed_fields) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return base::Fail(base::ErrorCode::kInvalidArgument, "request body is empty; expected a JSON object");
  boost::json::parser parser;
  boost::system::error_code ec;
  std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec)
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("request body is not valid JSON: {} at byte {}", ec.message(), consumed));
  boost::json::value value = parser.release();
  if (!value.is_object())
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("request body must be a JSON object, got {}", KindName(value)));
  // JSON carries NUL only as the escape \u0000 (PostgreSQL's jsonb and text
  // refuse it); the tree is searched only when the text holds one.
  if (body.find("\\u0000") != std::string_view::npos)
    if (std::optional<std::string> at = FirstNul(value))
      return base::Fail(base::ErrorCode::kInvalidArgument,
                        fmt::format("field '{}' holds a NUL character (\\u0000), which cannot be stored; remove it",
                                    at->substr(1)));
  boost::json::object object = std::move(value.as_object());
  for (const auto& member : object) {
    std::string_view key = member.key();
    bool known = false;
    for (std::string_view allowed : allowed_fields) known = known || allowed == key;
    if (!known)
      return base::Fail(base::ErrorCode::kInvalidArgument,
                        fmt::format("unknown field '{}'; allowed: {}", Shown(key),
                                    allowed_fields.empty() ? std::string("(none)")
                                                           : fmt::format("{}", fmt::join(allowed_fields, ", "))));
  }
  return object;
}

base::Result<std::string> RequiredString(const boost::json::object& object, std::string_view field) {
  const boost::json::value* value = Given(object, field);
  if (value == nullptr)
    return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("missing required field '{}'", field));
  if (!value->is_string()) return WrongType(field, "a string", *value);
  return std::string(value->as_string());
}

base::Result<std::optional<std::string>> OptionalString(const boost::json::object& object, std::string_view field) {
  const boost::json::value* value = Given(object, field);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return WrongType(field, "a string", *value);
  return std::optional<std::string>(std::string(value->as_string()));
}

base::Result<std::optional<std::int64_t>> OptionalInt(const boost::json::object& object, std::string_view field) {
  const boost::json::value* value = Given(object, field);
  if (value == nullptr) return std::optional<std::int64_t>();
  if (value->is_int64()) return std::optional<std::int64_t>(value->as_int64());
  if (value->is_uint64())
    return base::Fail(base::ErrorCode::kInvalidArgument, fmt::format("field '{}' is too large", field));
  return WrongType(field, "an integer", *value);
}

base::Result<std::optional<bool>> OptionalBool(const boost::json::object& object, std::string_view field) {
  const boost::json::value* value = Given(object, field);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_bool()) return WrongType(field, "a boolean", *value);
  return std::optional<bool>(value->as_bool());
}

base::Result<std::optional<std::vector<std::string>>> OptionalStringArray(const boost::json::object& object,
                                                                          std::string_view field) {
  const boost::json::value* value = Given(object, field);
  if (value == nullptr) return std::optional<std::vector<std::string>>();
  if (!value->is_array()) return WrongType(field, "an array of strings", *value);
  std::vector<std::string> out;
  const auto& array = value->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string())
      return base::Fail(base::ErrorCode::kInvalidArgument,
                        fmt::format("field '{}' must be an array of strings, but item {} is {}", field, i,
                                    KindName(array[i])));
    out.emplace_back(array[i].as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

base::Result<std::string> ParseUuidParam(std::string_view text) {
  if (!base::IsUuid(text))
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a UUID (expected 8-4-4-4-12 hex digits, like "
                                  "123e4567-e89b-12d3-a456-426614174000)",
                                  Shown(text)));
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace furrsight::api
