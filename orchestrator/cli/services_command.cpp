// furrsight services run: the test harness's services. Starts a throwaway
// PostgreSQL (with a migrated template database), Redis and s3rver (S3) on
// free loopback ports, runs the given command with their addresses in its
// environment, and stops them when the command ends, on Ctrl-C or SIGTERM; if
// this process is killed outright, the kernel stops them (parent-death signal).
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/cli/commands.hpp"
#include "orchestrator/embedded/embedded_stack.hpp"
#include "orchestrator/embedded/s3rver_server.hpp"

namespace furrsight::orchestrator::cli {
namespace {

std::atomic<pid_t> g_forward_to{0};

void ForwardSignal(int sig) {
  pid_t pid = g_forward_to.load();
  if (pid > 0) ::kill(-pid, sig);  // the command's whole process group
}

inline constexpr std::string_view kTemplateDatabase = "furrsight_template";

}  // namespace

int RunServicesRun(Invocation& inv) {
  if (inv.passthrough.empty()) {
    fmt::print(stderr, "furrsight: services run needs a command after '--', e.g. "
                       "furrsight services run -- ctest --test-dir build\n");
    return kExitUsage;
  }
  // Before anything starts: a missing s3rver (scripts/install-deps.sh) fails at once.
  if (auto s3rver = S3rverCommand(); !s3rver) return ReportError(s3rver.error());
  namespace fs = std::filesystem;
  fs::path dir;
  bool remove_dir = false;
  if (auto d = inv.Option("dir")) {
    dir = fs::absolute(*d);
  } else {
    std::string tmpl = (fs::temp_directory_path() / "furrsight-services-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      fmt::print(stderr, "furrsight: cannot create a temporary directory under {}\n",
                 fs::temp_directory_path().string());
      return kExitFailure;
    }
    dir = tmpl;
    // mkdtemp makes it owner-only; the postgres user must be able to enter it.
    fs::permissions(dir, fs::perms::others_exec | fs::perms::group_exec, fs::perm_options::add);
    remove_dir = !inv.Flag("keep");
  }

  int code = kExitFailure;
  {
    auto stack = EmbeddedStack::Start(
        {.dir = dir, .database = std::string(kTemplateDatabase), .ephemeral = true});
    if (!stack) return ReportError(stack.error());
    auto s3 = S3rverServer::Start(dir / "s3rver");
    if (!s3) return ReportError(s3.error());

    auto child = ChildProcess::Spawn(
        {.argv = inv.passthrough,
         .parent_death_signal = SIGTERM,
         .extra_env = {{"FURRSIGHT_TEST_ADMIN_URL", (*stack)->MaintenanceUrl()},
                       {"FURRSIGHT_TEST_TEMPLATE", std::string(kTemplateDatabase)},
                       {"FURRSIGHT_TEST_REDIS_URL", (*stack)->redis().Url()},
                       {"FURRSIGHT_TEST_SERVICES_DIR", dir.string()},
                       {"FURRSIGHT_TEST_S3_ENDPOINT", (*s3)->Endpoint()},
                       {"FURRSIGHT_TEST_S3_BUCKET", std::string(S3rverServer::kBucket)},
                       {"FURRSIGHT_TEST_S3_REGION", std::string(S3rverServer::kRegion)},
                       {"FURRSIGHT_TEST_S3_ACCESS_KEY", std::string(S3rverServer::kAccessKey)},
                       {"FURRSIGHT_TEST_S3_SECRET_KEY", std::string(S3rverServer::kSecretKey)}},
         .new_process_group = true});
    if (!child) return ReportError(child.error());
    g_forward_to = child->pid();
    struct sigaction sa {};
    sa.sa_handler = ForwardSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    code = child->Wait().value_or(kExitFailure);
    g_forward_to = 0;
    base::log::Info("stopping test services", {{"dir", dir.string()}, {"command_exit", code}});
  }  // s3rver, PostgreSQL and Redis stop here
  if (remove_dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return code;
}

}  // namespace furrsight::orchestrator::cli
