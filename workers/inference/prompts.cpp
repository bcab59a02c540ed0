#include "workers/inference/prompts.hpp"

#include <charconv>

#include <fmt/format.h>

namespace furrsight::workers::inference {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr std::string_view kSystemHeading = "## system";
constexpr std::string_view kUserHeading = "## user";

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string Prompt::VersionTag() const { return fmt::format("{}.v{}", name, version); }

base::Result<Prompt> ParsePrompt(const PromptFile& file) {
  std::string_view fname = file.file_name;
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("prompt {}: {}", file.file_name, why));
  };
  if (!fname.ends_with(".md")) return bad("not a .md file");
  fname.remove_suffix(3);
  const auto dot = fname.rfind(".v");
  if (dot == std::string_view::npos || dot == 0) return bad("name is not <name>.v<N>.md");
  Prompt prompt;
  prompt.name = std::string(fname.substr(0, dot));
  const auto digits = fname.substr(dot + 2);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prompt.version);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || prompt.version <= 0)
    return bad("version is not a positive number");

  // Sections start at a line that is exactly the heading.
  std::string* section = nullptr;
  std::string_view text = file.text;
  bool saw_system = false, saw_user = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const std::string trimmed = Trim(line);
    if (trimmed == kSystemHeading) {
      if (saw_system) return bad("two system sections");
      section = &prompt.system;
      saw_system = true;
    } else if (trimmed == kUserHeading) {
      if (saw_user) return bad("two user sections");
      section = &prompt.user;
      saw_user = true;
    } else if (section != nullptr) {
      section->append(line);
      section->push_back('\n');
    }
  }
  prompt.system = Trim(prompt.system);
  prompt.user = Trim(prompt.user);
  if (prompt.system.empty()) return bad("no \"## system\" section (or it is empty)");
  if (prompt.user.empty()) return bad("no \"## user\" section (or it is empty)");
  return prompt;
}

base::Result<Prompt> BuiltInPrompt(std::string_view name, int version) {
  std::optional<Prompt> best;
  for (const auto& file : BuiltInPromptFiles()) {
    auto p = ParsePrompt(file);
    if (!p) return std::unexpected(p.error());  // a broken built-in prompt is a bug: say so
    if (p->name != name) continue;
    if (version != 0 ? p->version == version : (!best || p->version > best->version)) best = std::move(*p);
  }
  if (!best)
    return Fail(ErrorCode::kNotFound,
                version == 0 ? fmt::format("no built-in prompt {}", name) : fmt::format("no built-in prompt {}.v{}", name, version));
  return *best;
}

base::Result<std::string> RenderTemplate(std::string_view text,
                                         const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return Fail(ErrorCode::kInvalidArgument, "unterminated {{ in prompt");
    out.append(text.substr(pos, open - pos));
    const std::string key = Trim(text.substr(open + 2, close - open - 2));
    auto it = values.find(key);
    if (it == values.end()) return Fail(ErrorCode::kInvalidArgument, fmt::format("prompt placeholder {{{{{}}}}} has no value", key));
    out.append(it->second);
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace furrsight::workers::inference
