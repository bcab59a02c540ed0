// CommandLine: the furrsight command-line grammar, one table of commands.
//
//   furrsight [GLOBAL FLAGS] COMMAND [SUBCOMMAND] [FLAGS] [ARGS] [-- PASSTHROUGH...]
//
// Every setting of base::Config is also a flag (--database-url ...), accepted
// by every command. Unknown flags, missing values and unknown commands are
// errors with a message saying what to type instead (exit code 2).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/config.hpp"
#include "events/base/error.hpp"

namespace furrsight::orchestrator::cli {

struct OptionSpec {
  std::string_view name;  // without "--"
  std::string_view value_name;  // empty: a boolean flag
  std::string_view help;
};

struct Invocation;
using RunFn = int (*)(Invocation&);

struct CommandSpec {
  std::string_view path;     // "migrate", "services run"
  std::string_view args;     // "[-- COMMAND...]"
  std::string_view summary;
  std::vector<OptionSpec> options;
  RunFn run;
};

struct Invocation {
  const CommandSpec* command = nullptr;
  base::Config config;
  std::map<std::string, std::string> options;  // command options by name; booleans hold "true"
  std::vector<std::string> args;
  std::vector<std::string> passthrough;        // after "--"

  bool Flag(std::string_view name) const { return options.contains(std::string(name)); }
  std::optional<std::string> Option(std::string_view name) const;
};

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Parses argv against `commands`; on error the message says what went wrong.
// `help_for` is set (and the Result empty of command) when --help was asked.
struct ParseOutcome {
  std::optional<Invocation> invocation;
  std::string help_text;  // non-empty: print it and exit 0
};
base::Result<ParseOutcome> Parse(std::span<const CommandSpec> commands, int argc, const char* const* argv);

std::string UsageOf(const CommandSpec& command);
std::string Overview(std::span<const CommandSpec> commands);

}  // namespace furrsight::orchestrator::cli
