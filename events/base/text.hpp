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

// The slug of a catalog name (its stream is breed-{slug} / service-{slug}):
// a-z and 0-9 kept (A-Z lowered), every other run of ASCII characters one
// '-', bytes of non-ASCII characters kept. Names with the same slug are the
// same entry: "Shih Tzu" and "shih-tzu".
inline std::string Slug(std::string_view name) {
  std::string out;
  bool dash = false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      if (dash && !out.empty()) out += '-';
      dash = false;
      out += static_cast<char>(std::tolower(u));
    } else {
      dash = true;
    }
  }
  return out;
}

}  // namespace furrsight::base
