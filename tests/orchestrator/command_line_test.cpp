#include "orchestrator/cli/command_line.hpp"

#include <gtest/gtest.h>

namespace furrsight::orchestrator::cli {
namespace {

int Noop(Invocation&) { return 0; }

const std::vector<CommandSpec> kCommands = {
    {"migrate", "", "apply", {{"status", "", "list"}}, Noop},
    {"services run", "-- CMD", "run", {{"dir", "DIR", "where"}}, Noop},
};

base::Result<ParseOutcome> ParseWords(std::vector<const char*> words) {
  words.insert(words.begin(), "furrsight");
  return Parse(kCommands, static_cast<int>(words.size()), words.data());
}

TEST(CommandLine, ParsesSubcommandFlagsSettingsAndPassthrough) {
  auto r = ParseWords({"services", "run", "--dir=/tmp/x", "--log-level", "debug", "--", "ctest", "-j2"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->invocation.has_value());
  EXPECT_EQ(r->invocation->command->path, "services run");
  EXPECT_EQ(r->invocation->Option("dir"), "/tmp/x");
  EXPECT_EQ(r->invocation->config.Get("log_level"), "debug");
  EXPECT_EQ(r->invocation->passthrough, (std::vector<std::string>{"ctest", "-j2"}));
}

TEST(CommandLine, BooleanFlag) {
  auto r = ParseWords({"migrate", "--status"});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->invocation->Flag("status"));
}

TEST(CommandLine, UnknownFlagNamesTheCommandsHelp) {
  auto r = ParseWords({"migrate", "--statsu"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unknown flag --statsu"), std::string::npos);
  EXPECT_NE(r.error().message.find("furrsight migrate --help"), std::string::npos);
}

TEST(CommandLine, UnknownCommandIsAnError) {
  auto r = ParseWords({"migrat"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("unknown command 'migrat'"), std::string::npos);
}

TEST(CommandLine, GroupWithoutSubcommandListsSubcommands) {
  auto r = ParseWords({"services"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("services run"), std::string::npos);
}

TEST(CommandLine, MissingValueIsAnError) {
  auto r = ParseWords({"services", "run", "--dir"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("--dir needs a value"), std::string::npos);
}

TEST(CommandLine, HelpPrintsUsageOfTheCommand) {
  auto r = ParseWords({"migrate", "--help"});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->invocation.has_value());
  EXPECT_NE(r->help_text.find("usage: furrsight migrate"), std::string::npos);
  EXPECT_NE(r->help_text.find("--status"), std::string::npos);
}

}  // namespace
}  // namespace furrsight::orchestrator::cli
