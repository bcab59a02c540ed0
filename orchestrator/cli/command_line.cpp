#include "orchestrator/cli/command_line.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

namespace furrsight::orchestrator::cli {
namespace {

using base::ErrorCode;
using base::Fail;

std::vector<std::string_view> Words(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t sp = path.find(' ', start);
    if (sp == std::string_view::npos) sp = path.size();
    out.push_back(path.substr(start, sp - start));
    start = sp + 1;
  }
  return out;
}

std::string SettingKey(std::string_view flag) {
  std::string key(flag);
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

}  // namespace

std::optional<std::string> Invocation::Option(std::string_view name) const {
  auto it = options.find(std::string(name));
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::string UsageOf(const CommandSpec& c) {
  std::string out = fmt::format("usage: furrsight {} [flags] {}\n\n{}\n", c.path, c.args, c.summary);
  if (!c.options.empty()) {
    out += "\nflags:\n";
    for (const auto& o : c.options) {
      std::string left = fmt::format("--{}{}{}", o.name, o.value_name.empty() ? "" : " ", o.value_name);
      out += fmt::format("  {:<28} {}\n", left, o.help);
    }
  }
  out += "\nsettings (every command; see 'furrsight config'):\n  --config FILE";
  for (const auto& s : base::AllSettings()) out += fmt::format(", {}", base::FlagName(s.key));
  out += "\n";
  return out;
}

std::string Overview(std::span<const CommandSpec> commands) {
  std::string out =
      "furrsight: the FurrSight Grooming Dataset orchestrator (event-sourced, append-only log)\n\n"
      "usage: furrsight COMMAND [flags] [args]\n\ncommands:\n";
  for (const auto& c : commands) out += fmt::format("  {:<24} {}\n", c.path, c.summary);
  out += "\nRun 'furrsight COMMAND --help' for a command's flags.\n";
  return out;
}

base::Result<ParseOutcome> Parse(std::span<const CommandSpec> commands, int argc, const char* const* argv) {
  std::vector<std::string> tokens(argv + 1, argv + argc);
  // The longest command path that prefixes the non-flag words.
  const CommandSpec* best = nullptr;
  size_t best_len = 0;
  for (const auto& c : commands) {
    auto words = Words(c.path);
    if (words.size() > tokens.size() || words.size() <= best_len) continue;
    if (std::equal(words.begin(), words.end(), tokens.begin())) {
      best = &c;
      best_len = words.size();
    }
  }
  if (tokens.empty() || tokens[0] == "--help" || tokens[0] == "-h" || tokens[0] == "help")
    return ParseOutcome{std::nullopt, Overview(commands)};
  if (best == nullptr) {
    // Is it a group ("services") given without its subcommand?
    std::string group_help;
    for (const auto& c : commands)
      if (Words(c.path).size() > 1 && Words(c.path)[0] == tokens[0])
        group_help += fmt::format("  furrsight {:<22} {}\n", c.path, c.summary);
    if (!group_help.empty())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("'{}' needs a subcommand:\n{}", tokens[0], group_help));
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown command '{}'; run 'furrsight --help' for the list", tokens[0]));
  }

  Invocation inv;
  inv.command = best;
  std::map<std::string, std::string> settings;
  std::optional<std::filesystem::path> config_file;
  for (size_t i = best_len; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t == "--") {
      inv.passthrough.assign(tokens.begin() + static_cast<long>(i) + 1, tokens.end());
      break;
    }
    if (t == "--help" || t == "-h") return ParseOutcome{std::nullopt, UsageOf(*best)};
    if (t.size() < 3 || t.rfind("--", 0) != 0) {
      inv.args.push_back(t);
      continue;
    }
    std::string name = t.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto take_value = [&]() -> base::Result<std::string> {
      if (value) return *value;
      if (i + 1 >= tokens.size())
        return Fail(ErrorCode::kInvalidArgument, fmt::format("--{} needs a value (see --help)", name));
      return tokens[++i];
    };
    auto opt = std::find_if(best->options.begin(), best->options.end(),
                            [&](const OptionSpec& o) { return o.name == name; });
    if (opt != best->options.end()) {
      if (opt->value_name.empty()) {
        if (value) return Fail(ErrorCode::kInvalidArgument, fmt::format("--{} takes no value", name));
        inv.options[name] = "true";
      } else {
        auto v = take_value();
        if (!v) return std::unexpected(v.error());
        inv.options[name] = *v;
      }
      continue;
    }
    if (name == "config") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      config_file = *v;
      continue;
    }
    if (base::FindSetting(SettingKey(name)) != nullptr) {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      settings[SettingKey(name)] = *v;
      continue;
    }
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("unknown flag --{} for 'furrsight {}'; run 'furrsight {} --help'", name, best->path,
                            best->path));
  }
  auto config = base::Config::Load(config_file, settings);
  if (!config) return std::unexpected(config.error());
  inv.config = std::move(*config);
  return ParseOutcome{std::move(inv), {}};
}

}  // namespace furrsight::orchestrator::cli
