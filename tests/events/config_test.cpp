#include "events/base/config.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace furrsight::base {
namespace {

Config::EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::filesystem::path WriteFile(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path;
}

TEST(Config, FlagOverridesEnvOverridesFileOverridesDefault) {
  auto file = WriteFile("furrsight_cfg_layers.conf",
                        "# comment\nredis_url = redis://file:1/0\nlog_level = warn\ndata_dir = /from/file\n");
  auto config = Config::Load(file, {{"log_level", "error"}},
                             FakeEnv({{"FURRSIGHT_LOG_LEVEL", "debug"}, {"FURRSIGHT_DATA_DIR", "/from/env"}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->Get("redis_url"), "redis://file:1/0");
  EXPECT_EQ(config->SourceOf("redis_url"), "file");
  EXPECT_EQ(config->Get("data_dir"), "/from/env");
  EXPECT_EQ(config->SourceOf("data_dir"), "env");
  EXPECT_EQ(config->Get("log_level"), "error");
  EXPECT_EQ(config->SourceOf("log_level"), "flag");
  EXPECT_EQ(config->Get("redis_channel_prefix"), "furrsight");
  EXPECT_EQ(config->SourceOf("redis_channel_prefix"), "default");
}

TEST(Config, UnknownKeyInFileIsRefusedWithItsLine) {
  auto file = WriteFile("furrsight_cfg_unknown.conf", "log_level = info\ndatabse_url = x\n");
  auto config = Config::Load(file, {}, FakeEnv({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find(":2: unknown setting 'databse_url'"), std::string::npos)
      << config.error().message;
}

TEST(Config, MalformedLineIsRefused) {
  auto file = WriteFile("furrsight_cfg_malformed.conf", "just words\n");
  auto config = Config::Load(file, {}, FakeEnv({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("expected 'key = value'"), std::string::npos);
}

TEST(Config, MissingExplicitFileIsAnError) {
  auto config = Config::Load(std::filesystem::path("/nonexistent/furrsight.conf"), {}, FakeEnv({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
}

TEST(Config, FileNamedByEnvironmentIsRead) {
  auto file = WriteFile("furrsight_cfg_env.conf", "data_dir = /via/env/file\n");
  auto config = Config::Load(std::nullopt, {}, FakeEnv({{"FURRSIGHT_CONFIG", file.string()}}));
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->Get("data_dir"), "/via/env/file");
}

TEST(Config, DescribeRedactsPasswords) {
  auto config = Config::WithOverrides({{"database_url", "postgresql://app:s3cret@db:5432/furrsight"}});
  bool found = false;
  for (const auto& line : config.Describe()) {
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
    found |= line.find("postgresql://app:***@db:5432/furrsight") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST(RedactUrl, HidesUserInfoPasswordAndKeywordPassword) {
  EXPECT_EQ(RedactUrl("redis://:pw@host:6379/0"), "redis://:***@host:6379/0");
  EXPECT_EQ(RedactUrl("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(RedactUrl("host=h password=secret dbname=x"), "host=h password=*** dbname=x");
}

TEST(Config, NumericSettingMustBeAPositiveNumber) {
  auto bad = Config::Load(std::nullopt, {{"poll_interval_ms", "soon"}}, FakeEnv({}));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("poll_interval_ms must be a whole number"), std::string::npos);
  auto zero = Config::Load(std::nullopt, {}, FakeEnv({{"FURRSIGHT_POLL_INTERVAL_MS", "0"}}));
  ASSERT_FALSE(zero.has_value());
  EXPECT_NE(zero.error().message.find("from env"), std::string::npos) << zero.error().message;
  auto ok = Config::Load(std::nullopt, {{"poll_interval_ms", "40"}}, FakeEnv({}));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->GetInt("poll_interval_ms"), 40);
}

TEST(Config, NamesFollowOneConvention) {
  EXPECT_EQ(EnvName("database_url"), "FURRSIGHT_DATABASE_URL");
  EXPECT_EQ(FlagName("database_url"), "--database-url");
  EXPECT_NE(FindSetting("redis_url"), nullptr);
  EXPECT_EQ(FindSetting("nope"), nullptr);
}

}  // namespace
}  // namespace furrsight::base
