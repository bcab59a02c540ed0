#include "orchestrator/api/routes/route_support.hpp"

#include <charconv>
#include <cmath>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"

namespace furrsight::api {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

std::string ActorOf(const Principal& principal) {
  if (!principal.actor.empty()) return principal.actor;
  if (principal.via == "api_key") {
    std::string_view id = principal.subject;
    if (id.starts_with("apikey-")) id.remove_prefix(7);
    return fmt::format("apikey:{}", id);
  }
  return fmt::format("user:{}", principal.subject);
}

orchestrator::jobs::CommandContext CommandContextFor(const ApiRequest& request, const Principal& principal,
                                                     std::int64_t now_us) {
  return {.actor = ActorOf(principal),
          .correlation_id = request.request_id,
          .causation_id = request.request_id,
          .source = "api",
          .now_us = now_us};
}

base::Result<void> CheckQueryParams(const ApiRequest& request, std::span<const std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (known) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown query parameter '{}'; this endpoint takes: {}", name,
                            list.empty() ? std::string("none") : list));
  }
  return {};
}

base::Result<std::optional<std::int64_t>> IntParam(const ApiRequest& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::optional<std::int64_t>();
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty())
    return Fail(ErrorCode::kInvalidArgument, fmt::format("query parameter '{}' must be a whole number, got '{}'",
                                                         name, *text));
  return std::optional<std::int64_t>(value);
}

base::Result<int> LimitParam(const ApiRequest& request, int default_limit, int max_limit) {
  auto limit = IntParam(request, "limit");
  if (!limit) return std::unexpected(limit.error());
  if (!*limit) return default_limit;
  if (**limit < 1 || **limit > max_limit)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("limit {} is outside 1..{}", **limit, max_limit));
  return static_cast<int>(**limit);
}

base::Result<std::optional<double>> NumberParam(const ApiRequest& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::optional<double>();
  double value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || text->empty() || !std::isfinite(value))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("query parameter '{}' must be a number, got '{}'", name,
                                                         *text));
  return std::optional<double>(value);
}

base::Result<std::optional<bool>> BoolParam(const ApiRequest& request, std::string_view name) {
  const auto text = request.Query(name);
  if (!text) return std::optional<bool>();
  if (*text == "true") return std::optional<bool>(true);
  if (*text == "false") return std::optional<bool>(false);
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("query parameter '{}' must be true or false, got '{}'", name, *text));
}

std::string StringParam(const ApiRequest& request, std::string_view name) {
  const auto text = request.Query(name);
  return text ? std::string(*text) : std::string();
}

json::object EventJson(const events::RecordedEvent& e) {
  json::error_code ec;
  json::value payload = json::parse(e.payload_json, ec);
  if (ec) payload = json::value(e.payload_json);
  json::value metadata = json::parse(e.metadata_json, ec);
  if (ec) metadata = json::object();
  return {{"position", FormatPosition(e.position)},
          {"global_position", e.position.global_position},
          {"event_id", e.event_id},
          {"stream_id", e.stream_id},
          {"category", e.category},
          {"version", e.stream_version},
          {"type", e.type},
          {"schema_version", e.schema_version},
          {"payload", std::move(payload)},
          {"metadata", std::move(metadata)},
          {"recorded_at", e.recorded_at}};
}

std::string ETagOf(std::int64_t version) { return fmt::format("\"{}\"", version); }

base::Result<std::int64_t> ParseIfMatch(std::string_view header) {
  const std::string trimmed = base::Trim(header);
  std::string_view v = trimmed;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::int64_t version = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || version < 1)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("If-Match '{}' is not a version this API gave out; send the ETag of your last read "
                            "of the pair (e.g. If-Match: \"3\")",
                            header));
  return version;
}

base::Result<json::value> ParseQueryJson(const pqxx::result& rows, std::string_view what,
                                         std::string_view not_found) {
  if (rows.empty() || rows[0][0].is_null()) return Fail(ErrorCode::kNotFound, std::string(not_found));
  json::error_code ec;
  auto value = json::parse(rows[0][0].c_str(), ec);
  if (ec) return Fail(ErrorCode::kInternal, fmt::format("{}: the database answered JSON that does not parse", what));
  return value;
}

ApiResponse JsonOk(const json::value& value) { return ApiResponse::Json(200, value); }

}  // namespace furrsight::api
