#include "events/store/event.hpp"

#include <charconv>

#include <fmt/format.h>

namespace furrsight::events {

std::string CategoryOf(const std::string& stream_id) {
  return stream_id.substr(0, stream_id.find('-'));
}

std::string FormatPosition(const LogPosition& position) {
  return fmt::format("{}.{}", position.tx_id, position.global_position);
}

base::Result<LogPosition> ParsePosition(std::string_view text, std::string_view what) {
  LogPosition p;
  const auto dot = text.find('.');
  auto bad = [&] {
    return base::Fail(base::ErrorCode::kInvalidArgument,
                fmt::format("{} '{}' is not a log position; pass the \"position\" or \"next\" value this API gave "
                            "out (\"<tx>.<n>\"), or 0 for the start",
                            what, text));
  };
  if (text == "0") return p;
  if (dot == std::string_view::npos) return bad();
  const auto tx = text.substr(0, dot), gp = text.substr(dot + 1);
  auto r1 = std::from_chars(tx.data(), tx.data() + tx.size(), p.tx_id);
  auto r2 = std::from_chars(gp.data(), gp.data() + gp.size(), p.global_position);
  if (tx.empty() || gp.empty() || r1.ec != std::errc() || r1.ptr != tx.data() + tx.size() ||
      r2.ec != std::errc() || r2.ptr != gp.data() + gp.size() || p.global_position < 0)
    return bad();
  return p;
}

}  // namespace furrsight::events
