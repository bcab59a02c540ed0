#include "workers/vision/validation_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace furrsight::workers::vision {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

constexpr std::string_view kKnownFields[] = {
    "min_width",      "min_height",     "formats",           "max_file_size",          "max_pixels",
    "min_blur",       "min_brightness", "max_brightness",    "reject_duplicates",      "reject_near_duplicates",
    "near_duplicate_distance",
};

std::unexpected<base::Error> FieldError(std::string_view field, std::string_view what, const json::value& got) {
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("validation_rules.{} must be {} (got {})", field, what, json::serialize(got)));
}

// A whole number in [low, high]; 100.0 counts as whole, 100.5 does not.
base::Result<std::int64_t> Integer(const json::value& v, std::string_view field, std::int64_t low, std::int64_t high) {
  const std::string what = fmt::format("a whole number from {} to {}", low, high);
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<std::uint64_t>(high)) return FieldError(field, what, v);
    n = static_cast<std::int64_t>(v.as_uint64());
  } else if (v.is_double()) {
    const double d = v.as_double();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(low) || d > static_cast<double>(high))
      return FieldError(field, what, v);
    n = static_cast<std::int64_t>(d);
  } else {
    return FieldError(field, what, v);
  }
  if (n < low || n > high) return FieldError(field, what, v);
  return n;
}

base::Result<double> Number(const json::value& v, std::string_view field, double low, double high) {
  const std::string what = fmt::format("a number from {} to {}", low, high);
  if (!v.is_number()) return FieldError(field, what, v);
  const double d = v.to_number<double>();
  if (!std::isfinite(d) || d < low || d > high) return FieldError(field, what, v);
  return d;
}

base::Result<bool> Boolean(const json::value& v, std::string_view field) {
  if (!v.is_bool()) return FieldError(field, "true or false", v);
  return v.as_bool();
}

base::Result<std::vector<ImageFormat>> Formats(const json::value& v) {
  constexpr std::string_view kWhat = "a non-empty array of jpeg, jpg, png, webp, bmp";
  if (!v.is_array() || v.as_array().empty()) return FieldError("formats", kWhat, v);
  std::vector<ImageFormat> formats;
  for (const json::value& item : v.as_array()) {
    if (!item.is_string()) return FieldError("formats", kWhat, v);
    const std::optional<ImageFormat> format = ParseFormatName(std::string_view(item.as_string()));
    if (!format) return FieldError("formats", kWhat, item);
    if (*format == ImageFormat::kGif)
      return Fail(ErrorCode::kInvalidArgument,
                  "validation_rules.formats cannot allow gif: OpenCV 4.6 has no GIF reader, so no gif could pass");
    if (std::ranges::find(formats, *format) == formats.end()) formats.push_back(*format);
  }
  return formats;
}

}  // namespace

base::Result<ValidationRules> ParseValidationRules(const json::value& value) {
  ValidationRules rules;
  if (value.is_null()) return rules;
  if (!value.is_object())
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("validation_rules must be a JSON object (got {})", json::serialize(value)));
  constexpr std::int64_t kMaxInt = std::numeric_limits<std::int32_t>::max();
  constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
  for (const auto& [key, v] : value.as_object()) {
    const std::string_view field = key;
    base::Result<void> ok;
    auto set_int = [&](auto& member, std::int64_t low, std::int64_t high) {
      auto n = Integer(v, field, low, high);
      if (!n) return base::Result<void>(std::unexpected(n.error()));
      member = static_cast<std::remove_reference_t<decltype(member)>>(*n);
      return base::Result<void>();
    };
    auto set_number = [&](double& member, double low, double high) {
      auto d = Number(v, field, low, high);
      if (!d) return base::Result<void>(std::unexpected(d.error()));
      member = *d;
      return base::Result<void>();
    };
    auto set_bool = [&](bool& member) {
      auto b = Boolean(v, field);
      if (!b) return base::Result<void>(std::unexpected(b.error()));
      member = *b;
      return base::Result<void>();
    };
    if (field == "min_width") {
      ok = set_int(rules.min_width, 1, kMaxInt);
    } else if (field == "min_height") {
      ok = set_int(rules.min_height, 1, kMaxInt);
    } else if (field == "formats") {
      auto formats = Formats(v);
      if (!formats) return std::unexpected(formats.error());
      rules.formats = std::move(*formats);
    } else if (field == "max_file_size") {
      ok = set_int(rules.max_file_size, 1, kMaxInt64);
    } else if (field == "max_pixels") {
      ok = set_int(rules.max_pixels, 1, kMaxInt64);
    } else if (field == "min_blur") {
      ok = set_number(rules.min_blur, 0, std::numeric_limits<double>::max());
    } else if (field == "min_brightness") {
      ok = set_number(rules.min_brightness, 0, 255);
    } else if (field == "max_brightness") {
      ok = set_number(rules.max_brightness, 0, 255);
    } else if (field == "reject_duplicates") {
      ok = set_bool(rules.reject_duplicates);
    } else if (field == "reject_near_duplicates") {
      ok = set_bool(rules.reject_near_duplicates);
    } else if (field == "near_duplicate_distance") {
      ok = set_int(rules.near_duplicate_distance, 0, 64);
    } else {
      std::string known;
      for (std::string_view k : kKnownFields) known += fmt::format("{}{}", known.empty() ? "" : ", ", k);
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("validation_rules.{} is not a known rule; known: {}", field, known));
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (rules.min_brightness >= rules.max_brightness)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("validation_rules.min_brightness ({}) must be below validation_rules.max_brightness ({})",
                            rules.min_brightness, rules.max_brightness));
  return rules;
}

base::Result<ValidationRules> ParseValidationRulesText(std::string_view json_text) {
  boost::system::error_code ec;
  json::value value = json::parse(json_text, ec);
  if (ec)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("validation_rules is not valid JSON: {}", ec.message()));
  return ParseValidationRules(value);
}

json::object ToJson(const ValidationRules& rules) {
  json::array formats;
  for (ImageFormat f : rules.formats) formats.emplace_back(FormatName(f));
  return json::object{
      {"min_width", rules.min_width},
      {"min_height", rules.min_height},
      {"formats", std::move(formats)},
      {"max_file_size", rules.max_file_size},
      {"max_pixels", rules.max_pixels},
      {"min_blur", rules.min_blur},
      {"min_brightness", rules.min_brightness},
      {"max_brightness", rules.max_brightness},
      {"reject_duplicates", rules.reject_duplicates},
      {"reject_near_duplicates", rules.reject_near_duplicates},
      {"near_duplicate_distance", rules.near_duplicate_distance},
  };
}

}  // namespace furrsight::workers::vision
