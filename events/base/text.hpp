// Small text helpers shared by every layer. Header-only; pure.
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

// True when `s` is well-formed UTF-8: no stray continuation bytes, no
// overlong forms, no UTF-16 surrogates, nothing past U+10FFFF. PostgreSQL
// refuses anything else in a text value, so input is checked before it
// gets there.
inline bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      length = 3;
      if (b0 == 0xE0) low = 0xA0;   // overlong
      if (b0 == 0xED) high = 0x9F;  // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      length = 4;
      if (b0 == 0xF0) low = 0x90;   // overlong
      if (b0 == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < low || b > high) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

// True when PostgreSQL's text type can hold `s`: well-formed UTF-8 without
// NUL bytes. Input headed for the database is checked with this first.
inline bool IsStorableText(std::string_view s) { return s.find('\0') == std::string_view::npos && IsValidUtf8(s); }

}  // namespace furrsight::base
