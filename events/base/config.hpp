// Config: FurrSight's settings, layered. Lowest to highest precedence:
//   built-in default < config file < environment (FURRSIGHT_<KEY>) < command-line flag (--key)
//
// Every setting is declared once in kSettings (config.cpp); an unknown key in
// the file or an unknown --flag is an error, never silently ignored. Secret
// values (passwords inside URLs, settings marked secret) are redacted by
// Describe(). Immutable after Load(), so safe to share between threads.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::base {

struct SettingSpec {
  std::string_view key;            // snake_case; flag is --key-with-dashes, env FURRSIGHT_KEY
  std::string_view default_value;
  std::string_view help;
  bool positive_integer = false;  // the value must be a whole number > 0
  bool secret = false;            // a credential: Describe() shows *** instead of the value
};

// All settings FurrSight knows.
std::span<const SettingSpec> AllSettings();
const SettingSpec* FindSetting(std::string_view key);

std::string EnvName(std::string_view key);   // "database_url" -> "FURRSIGHT_DATABASE_URL"
std::string FlagName(std::string_view key);  // "database_url" -> "--database-url"

// Replaces the password of a URL ("postgresql://u:pw@h/db" -> "postgresql://u:***@h/db")
// and of libpq keyword strings ("password=pw" -> "password=***").
std::string RedactUrl(std::string_view url);

class Config {
 public:
  using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

  // `file`: an explicit config file (must exist); if empty, FURRSIGHT_CONFIG or
  // ./furrsight.conf when present. `flags`: key -> value from the command line.
  static Result<Config> Load(const std::optional<std::filesystem::path>& file,
                             const std::map<std::string, std::string>& flags,
                             const EnvLookup& env = ProcessEnv);
  static std::optional<std::string> ProcessEnv(std::string_view name);

  // A config with only defaults and the given overrides (tests).
  static Config WithOverrides(const std::map<std::string, std::string>& values);
  // This config with some values replaced (e.g. the embedded stack's URLs).
  Config Overridden(const std::map<std::string, std::string>& values) const;

  const std::string& Get(std::string_view key) const;  // key must be declared
  int GetInt(std::string_view key) const;              // a positive_integer setting
  std::string_view SourceOf(std::string_view key) const;  // default|file|env|flag

  // One line per setting: key, redacted value, where it came from.
  std::vector<std::string> Describe() const;

 private:
  struct Value {
    std::string text;
    std::string_view source;
  };
  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace furrsight::base
