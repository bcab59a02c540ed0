#include "orchestrator/embedded/child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace furrsight::orchestrator {
namespace {

using base::ErrorCode;
using base::Fail;

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(const SpawnOptions& o, const std::vector<char*>& argv, pid_t parent,
                            const passwd* user, int out_fd) {
  if (o.new_process_group) setpgid(0, 0);
  if (out_fd >= 0) {
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
  }
  if (user != nullptr) {
    if (setgroups(0, nullptr) != 0 || setgid(user->pw_gid) != 0 || setuid(user->pw_uid) != 0) _exit(126);
  }
  // After setuid: a credential change clears the parent-death signal.
  if (o.parent_death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
    if (getppid() != parent) _exit(125);  // the parent already died
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& [k, v] : o.extra_env) setenv(k.c_str(), v.c_str(), 1);
  execvp(argv[0], argv.data());
  // Only async-signal-safe calls here: write(2), not stdio.
  const char* reason = std::strerror(errno);
  for (const char* part : {"furrsight: cannot run ", static_cast<const char*>(argv[0]), ": ", reason, "\n"})
    if (::write(STDERR_FILENO, part, std::strlen(part)) < 0) break;
  _exit(127);
}

}  // namespace

base::Result<ChildProcess> ChildProcess::Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return Fail(ErrorCode::kInvalidArgument, "spawn: empty command");
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const passwd* user = nullptr;
  if (o.run_as_user) {
    user = getpwnam(o.run_as_user->c_str());
    if (user == nullptr)
      return Fail(ErrorCode::kFailedPrecondition, fmt::format("spawn {}: no user '{}'", o.argv[0], *o.run_as_user));
  }
  int out_fd = -1;
  if (o.output_file) {
    out_fd = ::open(o.output_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0)
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("spawn {}: cannot open {}: {}", o.argv[0], o.output_file->string(), std::strerror(errno)));
    if (user != nullptr && fchown(out_fd, user->pw_uid, user->pw_gid) != 0) {
      // The log stays root's; the child can still write through the inherited fd.
    }
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (out_fd >= 0) ::close(out_fd);
    return Fail(ErrorCode::kInternal, fmt::format("fork failed: {}", std::strerror(errno)));
  }
  if (pid == 0) ExecChild(o, argv, parent, user, out_fd);
  // Also here: a signal forwarded to the group right after fork must find it.
  if (o.new_process_group) setpgid(pid, pid);
  if (out_fd >= 0) ::close(out_fd);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_) Stop(SIGTERM, std::chrono::seconds(10));
    pid_ = other.pid_;
    exit_code_ = other.exit_code_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) Stop(SIGTERM, std::chrono::seconds(10));
}

bool ChildProcess::Running() {
  if (pid_ <= 0 || exit_code_) return false;
  return !Wait(std::chrono::milliseconds(0)).has_value();
}

void ChildProcess::Signal(int signal) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::Wait(std::optional<std::chrono::milliseconds> timeout) {
  if (exit_code_) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds(0));
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, timeout ? WNOHANG : 0);
    if (r == pid_) {
      exit_code_ = DecodeStatus(status);
      return exit_code_;
    }
    if (r < 0 && errno != EINTR) {
      exit_code_ = 255;  // not our child any more
      return exit_code_;
    }
    if (timeout && std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    if (timeout) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChildProcess::Stop(int signal, std::chrono::milliseconds grace) {
  Signal(signal);
  if (auto code = Wait(grace)) return *code;
  Signal(SIGKILL);
  return Wait().value_or(255);
}

base::Result<int> PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kInternal, "socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  if (port < 0) return Fail(ErrorCode::kUnavailable, "no free TCP port on 127.0.0.1");
  return port;
}

}  // namespace furrsight::orchestrator

namespace furrsight::orchestrator {

bool PortIsFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return free;
}

}  // namespace furrsight::orchestrator
