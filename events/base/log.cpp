#include "events/base/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>

namespace furrsight::base::log {
namespace {

Level InitialLevel() {
  Level level = Level::kInfo;
  if (const char* env = std::getenv("FURRSIGHT_LOG_LEVEL")) ParseLevel(env, level);
  return level;
}

std::atomic<Level>& LevelRef() {
  static std::atomic<Level> level{InitialLevel()};
  return level;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string(s));
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace

void SetLevel(Level level) { LevelRef().store(level); }
Level CurrentLevel() { return LevelRef().load(); }

bool ParseLevel(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warn" || text == "warning") out = Level::kWarn;
  else if (text == "error") out = Level::kError;
  else return false;
  return true;
}

std::string FormatRecord(Level level, std::string_view message, Fields fields) {
  std::string out = "{\"ts\":\"" + NowIso8601() + "\",\"level\":\"";
  out += LevelName(level);
  out += "\",\"msg\":";
  AppendJsonString(out, message);
  for (const Field& f : fields) {
    out += ',';
    AppendJsonString(out, f.key);
    out += ':';
    std::visit(
        [&out](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) AppendJsonString(out, v);
          else if constexpr (std::is_same_v<T, bool>) out += v ? "true" : "false";
          else out += fmt::format("{}", v);
        },
        f.value);
  }
  out += "}\n";
  return out;
}

void Write(Level level, std::string_view message, Fields fields) {
  if (level < CurrentLevel()) return;
  std::string line = FormatRecord(level, message, fields);
  // One write(2) per record keeps concurrent records from interleaving.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace furrsight::base::log
