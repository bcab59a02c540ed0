// Small text helpers shared by every layer (ASCII only). Header-only; pure.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace furrsight::base {

// `s` without leading and trailing spaces, tabs, CR and LF.
inline std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// `s` with A-Z as a-z.
inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace furrsight::base
