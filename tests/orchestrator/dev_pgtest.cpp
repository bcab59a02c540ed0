// `furrsight dev --once`, the README's first command after the build: its own
// PostgreSQL and Redis under a data directory, the sample site, a scheduler
// and a worker; the main job (scrape, validate, pair) and its summary. Run
// twice on the same directory, the second run adds no image and no pair; it
// is given a model endpoint (the chat-completions stand-in) and analyses
// every pair.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "orchestrator/embedded/child_process.hpp"
#include "tests/support/chat_stand_in.hpp"

namespace furrsight::orchestrator {
namespace {

namespace fs = std::filesystem;

std::pair<int, std::string> Dev(const fs::path& data_dir, const fs::path& out,
                                std::map<std::string, std::string> env = {}) {
  fs::remove(out);
  auto child = ChildProcess::Spawn({.argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "dev", "--once",
                                             "--data-dir", data_dir.string(), "--log-level", "warn"},
                                    .output_file = out,
                                    .extra_env = std::move(env)});
  EXPECT_TRUE(child.has_value());
  const int code = child->Wait(std::chrono::minutes(10)).value_or(-1);
  std::ifstream in(out);
  return {code, std::string((std::istreambuf_iterator<char>(in)), {})};
}

long Figure(const std::string& text, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(label + R"(\s+(\d+))"))) return -1;
  return std::stol(m[1]);
}

TEST(Dev, OnceRunsTheMainJobAndARerunAddsNothing) {
  const fs::path dir = fs::temp_directory_path() / ("furrsight-dev-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto [code, out] = Dev(dir, dir.string() + ".out");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("main job done"), std::string::npos) << out;
  const long pages = Figure(out, "pages captured"), images = Figure(out, "images stored"),
             pairs = Figure(out, "pairs proposed");
  EXPECT_GT(pages, 20) << out;
  EXPECT_GT(images, 100) << out;
  EXPECT_GT(pairs, 40) << out;
  EXPECT_NE(out.find("no model endpoint configured"), std::string::npos) << "says how inference would run";
  // The export: every pair (none is verified or rejected yet) in a zip under the data directory.
  EXPECT_EQ(Figure(out, "export"), pairs) << out;
  std::smatch zip;
  ASSERT_TRUE(std::regex_search(out, zip, std::regex(R"((\S+/exports/\S+\.zip))"))) << out;
  EXPECT_TRUE(fs::exists(zip[1].str())) << zip[1];
  // The pairs are visible through the REST API, read with the admin key issued on this first run.
  std::smatch api;
  ASSERT_TRUE(std::regex_search(out, api, std::regex(R"(\((\d+) pairs on the first page of GET /api/v1/pairs\))"))) << out;
  EXPECT_EQ(std::stol(api[1]), pairs) << out;
  EXPECT_NE(out.find("issued now"), std::string::npos) << out;

  testing::ChatStandIn model;
  auto [again, again_out] = Dev(dir, dir.string() + ".out2",
                                {{"FURRSIGHT_INFERENCE_BASE_URL", model.BaseUrl()},
                                 {"FURRSIGHT_INFERENCE_MODEL", model.model()}});
  ASSERT_EQ(again, 0) << again_out;
  EXPECT_EQ(Figure(again_out, "images stored"), images) << again_out;
  EXPECT_EQ(Figure(again_out, "pairs proposed"), pairs) << again_out;
  EXPECT_EQ(Figure(again_out, "inference"), pairs) << again_out;  // "inference  N pairs analysed ok, 0 failed"
  EXPECT_NE(again_out.find(", 0 failed"), std::string::npos) << again_out;
  EXPECT_NE(again_out.find("from an earlier run"), std::string::npos) << "the admin key is kept";
  EXPECT_EQ(model.RequestCount(), pairs);
  EXPECT_EQ(model.Violations(), std::vector<std::string>{});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace furrsight::orchestrator
