// Structured logging: one JSON object per record, to stderr.
//
//   log::Info("migration applied", {{"name", file}, {"ms", elapsed}});
//
// Thread-safe: a record is formatted first and written with one write(2).
// The level comes from FURRSIGHT_LOG_LEVEL (debug, info, warn, error) or
// SetLevel(). Values that may hold credentials go through RedactUrl() first.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace furrsight::base::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  using Value = std::variant<std::string, std::int64_t, double, bool>;
  std::string_view key;
  Value value;

  Field(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I>
    requires std::is_integral_v<I>
  Field(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
};

using Fields = std::initializer_list<Field>;

void SetLevel(Level level);
Level CurrentLevel();
// Parses "debug", "info", "warn" or "error"; false if it is none of them.
bool ParseLevel(std::string_view text, Level& out);

// Formats one record as a JSON line (exposed for tests).
std::string FormatRecord(Level level, std::string_view message, Fields fields);

void Write(Level level, std::string_view message, Fields fields = {});
inline void Debug(std::string_view m, Fields f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, Fields f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, Fields f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, Fields f = {}) { Write(Level::kError, m, f); }

}  // namespace furrsight::base::log
