// Prompts are versioned files, not literals in code: prompts/<name>.v<N>.md,
// embedded into the binary at build time (EmbedPrompts.cmake). A released
// file is never edited; a change is a new version (<name>.v<N+1>.md), so the
// prompt_version recorded with every answer ("pair_analysis.v1") names the
// exact words the model saw.
//
// File format (docs/inference.md): anything before the first section is notes
// for people and is not sent; "## system" and "## user" start the two
// sections (each trimmed). Placeholders are {{name}}; rendering fails on a
// placeholder without a value, so a prompt cannot go out half-filled.
// Free functions and values; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::workers::inference {

struct PromptFile {
  std::string file_name;  // "pair_analysis.v1.md"
  std::string text;
};

struct Prompt {
  std::string name;     // "pair_analysis"
  int version = 0;      // 1
  std::string system;   // the system message's template
  std::string user;     // the user message's template

  std::string VersionTag() const;  // "pair_analysis.v1": recorded as prompt_version
};

// Every prompts/*.md file, in name order (generated source).
std::vector<PromptFile> BuiltInPromptFiles();

// kInvalidArgument when the name is not <name>.v<N>.md or a section is missing or empty.
base::Result<Prompt> ParsePrompt(const PromptFile& file);

// The built-in prompt `name` at `version`, or at its highest version when
// version is 0. kNotFound when there is none.
base::Result<Prompt> BuiltInPrompt(std::string_view name, int version = 0);

// Replaces each {{key}}. kInvalidArgument naming a placeholder without a value.
base::Result<std::string> RenderTemplate(std::string_view text, const std::map<std::string, std::string, std::less<>>& values);

}  // namespace furrsight::workers::inference
