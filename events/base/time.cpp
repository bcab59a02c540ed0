#include "events/base/time.hpp"

#include <regex>
#include <string>

namespace furrsight::base {
namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<std::int64_t> ParseIsoTimeUs(std::string_view text) {
  static const std::regex kTime(
      R"(^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})$)");
  const std::string s(text);
  std::smatch m;
  if (!std::regex_match(s, m, kTime)) return std::nullopt;
  std::int64_t days = DaysFromCivil(std::stoll(m[1]), std::stoul(m[2]), std::stoul(m[3]));
  std::int64_t secs = days * 86400 + std::stoll(m[4]) * 3600 + std::stoll(m[5]) * 60 + std::stoll(m[6]);
  std::int64_t micros = 0;
  if (m[7].matched) {
    std::string frac = m[7].str();
    frac.resize(6, '0');
    micros = std::stoll(frac);
  }
  const std::string zone = m[8].str();
  if (zone != "Z") {
    const int sign = zone[0] == '-' ? -1 : 1;
    std::string digits;
    for (char c : zone.substr(1))
      if (c != ':') digits += c;
    secs -= sign * (std::stoi(digits.substr(0, 2)) * 3600 + std::stoi(digits.substr(2, 2)) * 60);
  }
  return secs * 1'000'000 + micros;
}

}  // namespace furrsight::base
