#include "workers/inference/json_schema.hpp"

#include <array>
#include <string_view>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

constexpr std::array<std::string_view, 15> kKnownKeywords = {
    "type",      "properties", "required",  "additionalProperties", "items",   "minItems",    "maxItems",
    "minLength", "maxLength",  "minimum",   "maximum",              "enum",    "description", "title",
    "$schema"};

bool HasType(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_int64() || v.is_uint64()) return true;
    if (v.is_double()) {
      const double d = v.get_double();
      return d == static_cast<double>(static_cast<long long>(d));
    }
  }
  return false;
}

std::string_view KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::string: return "string";
    case json::kind::bool_: return "boolean";
    case json::kind::null: return "null";
    default: return "number";
  }
}

std::string Short(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

base::Result<void> Check(const json::value& schema, const std::string& path) {
  if (!schema.is_object()) return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {} is not an object", path));
  for (const auto& [key, value] : schema.as_object()) {
    bool known = false;
    for (auto k : kKnownKeywords) known = known || k == key;
    if (!known) return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: unsupported keyword \"{}\"", path, std::string_view(key)));
    if (key == "additionalProperties" && !(value.is_bool() && !value.get_bool()))
      return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: only additionalProperties: false is supported", path));
    if ((key == "minimum" || key == "maximum") && !value.is_number())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: {} is not a number", path, std::string_view(key)));
    if ((key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") && !value.is_int64())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: {} is not an integer", path, std::string_view(key)));
    if ((key == "required" || key == "enum") && !value.is_array())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: {} is not an array", path, std::string_view(key)));
  }
  if (const auto* props = schema.as_object().if_contains("properties")) {
    if (!props->is_object()) return Fail(ErrorCode::kInvalidArgument, fmt::format("schema at {}: properties is not an object", path));
    for (const auto& [name, sub] : props->as_object()) {
      if (auto r = Check(sub, fmt::format("{}.{}", path, std::string_view(name))); !r) return r;
    }
  }
  if (const auto* items = schema.as_object().if_contains("items")) {
    if (auto r = Check(*items, path + "[]"); !r) return r;
  }
  return {};
}

base::Result<void> Validate(const json::value& v, const json::object& schema, const std::string& path) {
  auto fail = [&](std::string what) { return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: {}", path, what)); };
  if (const auto* type = schema.if_contains("type")) {
    bool ok = false;
    std::string wanted;
    if (type->is_string()) {
      ok = HasType(v, type->get_string());
      wanted = type->get_string();
    } else if (type->is_array()) {
      for (const auto& t : type->get_array()) {
        if (t.is_string() && HasType(v, t.get_string())) ok = true;
        wanted += (wanted.empty() ? "" : " or ") + std::string(t.is_string() ? t.get_string() : "?");
      }
    }
    if (!ok) return fail(fmt::format("expected {}, got {}", wanted, KindName(v)));
  }
  if (const auto* values = schema.if_contains("enum")) {
    bool found = false;
    for (const auto& e : values->get_array()) found = found || e == v;
    if (!found) return fail(fmt::format("{} is not one of {}", Short(v), Short(*values)));
  }
  if (v.is_number()) {
    const double d = v.to_number<double>();
    if (const auto* m = schema.if_contains("minimum"); m && d < m->to_number<double>())
      return fail(fmt::format("{} is below the minimum {}", Short(v), Short(*m)));
    if (const auto* m = schema.if_contains("maximum"); m && d > m->to_number<double>())
      return fail(fmt::format("{} is above the maximum {}", Short(v), Short(*m)));
  }
  if (v.is_string()) {
    const auto n = static_cast<std::int64_t>(v.get_string().size());
    if (const auto* m = schema.if_contains("minLength"); m && n < m->get_int64())
      return fail(fmt::format("string shorter than {} characters", m->get_int64()));
    if (const auto* m = schema.if_contains("maxLength"); m && n > m->get_int64())
      return fail(fmt::format("string longer than {} characters", m->get_int64()));
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    const auto n = static_cast<std::int64_t>(a.size());
    if (const auto* m = schema.if_contains("minItems"); m && n < m->get_int64())
      return fail(fmt::format("{} items, fewer than {}", n, m->get_int64()));
    if (const auto* m = schema.if_contains("maxItems"); m && n > m->get_int64())
      return fail(fmt::format("{} items, more than {}", n, m->get_int64()));
    if (const auto* items = schema.if_contains("items")) {
      for (std::size_t i = 0; i < a.size(); ++i)
        if (auto r = Validate(a[i], items->as_object(), fmt::format("{}[{}]", path, i)); !r) return r;
    }
  }
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* req = schema.if_contains("required")) {
      for (const auto& name : req->get_array())
        if (name.is_string() && !o.contains(name.get_string()))
          return fail(fmt::format("required property \"{}\" is missing", std::string_view(name.get_string())));
    }
    const auto* props = schema.if_contains("properties");
    const bool closed = schema.contains("additionalProperties");
    for (const auto& [name, sub] : o) {
      const json::value* sub_schema = props != nullptr ? props->as_object().if_contains(name) : nullptr;
      if (sub_schema == nullptr) {
        if (closed) return fail(fmt::format("property \"{}\" is not allowed", std::string_view(name)));
        continue;
      }
      if (auto r = Validate(sub, sub_schema->as_object(), fmt::format("{}.{}", path, std::string_view(name))); !r) return r;
    }
  }
  return {};
}

}  // namespace

base::Result<void> CheckSchema(const json::value& schema) { return Check(schema, "$"); }

base::Result<void> ValidateJson(const json::value& value, const json::value& schema) {
  if (auto r = CheckSchema(schema); !r) return r;
  return Validate(value, schema.as_object(), "$");
}

}  // namespace furrsight::workers::inference
