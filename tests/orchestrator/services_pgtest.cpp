// `furrsight services run`, the test harness itself: its servers answer while
// the command runs and are gone afterwards, however the harness ends.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator {
namespace {

namespace fs = std::filesystem;

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

int PortOf(const std::string& url) {
  auto colon = url.rfind(':');
  return std::stoi(url.substr(colon + 1));  // stops at '/'
}

struct Ports {
  int postgres = 0;
  int redis = 0;
};

// Waits for the wrapped command to write the two URLs to `file`.
std::optional<Ports> ReadPorts(const fs::path& file) {
  for (int i = 0; i < 600; ++i) {
    std::ifstream in(file);
    std::string pg, redis;
    if (in >> pg >> redis) return Ports{PortOf(pg), PortOf(redis)};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

bool BothClosedWithin(const Ports& p, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Accepts(p.postgres) && !Accepts(p.redis)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::vector<std::string> Harness(const std::string& script) {
  return {std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "services", "run", "--log-level", "warn", "--", "sh",
          "-c", script};
}

fs::path TempFile(const std::string& name) {
  auto path = fs::temp_directory_path() / (name + std::to_string(::getpid()));
  fs::remove(path);
  return path;
}

TEST(ServicesRun, ServersAnswerDuringTheCommandAndStopAfter) {
  auto file = TempFile("furrsight_ports_a");
  auto script = "echo \"$FURRSIGHT_TEST_ADMIN_URL $FURRSIGHT_TEST_REDIS_URL\" > " + file.string() +
                " && psql \"$FURRSIGHT_TEST_ADMIN_URL\" -Atc 'select 1' >/dev/null && exit 7";
  auto run = ChildProcess::Spawn({.argv = Harness(script)});
  ASSERT_TRUE(run.has_value());
  EXPECT_EQ(run->Wait(), 7) << "the command's exit code is passed through; psql reached the server";
  auto ports = ReadPorts(file);
  ASSERT_TRUE(ports.has_value());
  EXPECT_TRUE(BothClosedWithin(*ports, std::chrono::seconds(5)));
}

TEST(ServicesRun, ServersStopWhenTheHarnessIsKilled) {
  auto file = TempFile("furrsight_ports_b");
  auto run = ChildProcess::Spawn(
      {.argv = Harness("echo \"$FURRSIGHT_TEST_ADMIN_URL $FURRSIGHT_TEST_REDIS_URL\" > " + file.string() +
                       "; exec sleep 120")});
  ASSERT_TRUE(run.has_value());
  auto ports = ReadPorts(file);
  ASSERT_TRUE(ports.has_value());
  EXPECT_TRUE(Accepts(ports->postgres));
  EXPECT_TRUE(Accepts(ports->redis));
  run->Signal(SIGKILL);
  run->Wait();
  EXPECT_TRUE(BothClosedWithin(*ports, std::chrono::seconds(20))) << "orphaned servers after SIGKILL";
}

TEST(ServicesRun, InterruptStopsCommandAndServers) {
  auto file = TempFile("furrsight_ports_c");
  auto run = ChildProcess::Spawn(
      {.argv = Harness("echo \"$FURRSIGHT_TEST_ADMIN_URL $FURRSIGHT_TEST_REDIS_URL\" > " + file.string() +
                       "; exec sleep 120")});
  ASSERT_TRUE(run.has_value());
  auto ports = ReadPorts(file);
  ASSERT_TRUE(ports.has_value());
  run->Signal(SIGINT);
  auto code = run->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "the harness did not end after Ctrl-C";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(BothClosedWithin(*ports, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace furrsight::orchestrator
