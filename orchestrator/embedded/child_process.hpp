// ChildProcess: a program FurrSight started and owns (an embedded PostgreSQL
// or Redis server, a worker, a wrapped test command).
//
// The child is told by the kernel (PR_SET_PDEATHSIG) to stop when its parent
// dies, even by SIGKILL, so no server outlives the process that started it.
// The destructor signals and reaps the child if it is still running.
// Not thread-safe; owned by one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/base/error.hpp"

namespace furrsight::orchestrator {

struct SpawnOptions {
  std::vector<std::string> argv;
  std::optional<std::string> run_as_user;           // setuid/setgid to this user (requires root)
  int parent_death_signal = 15;                     // SIGTERM; 0 for none
  std::optional<std::filesystem::path> output_file; // stdout+stderr appended here; else inherited
  std::map<std::string, std::string> extra_env;
  bool new_process_group = false;
};

class ChildProcess {
 public:
  static base::Result<ChildProcess> Spawn(const SpawnOptions& options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int signal) const;
  // Waits up to `timeout` (forever if nullopt); returns the exit code, 128+signal
  // when killed, or nullopt on timeout.
  std::optional<int> Wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Signal, wait up to `grace`, then SIGKILL.
  int Stop(int signal, std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
base::Result<int> PickFreePort();

}  // namespace furrsight::orchestrator

namespace furrsight::orchestrator {
// True if nothing listens on 127.0.0.1:port right now.
bool PortIsFree(int port);
}  // namespace furrsight::orchestrator
