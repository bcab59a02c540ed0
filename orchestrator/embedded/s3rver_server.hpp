// S3rverServer: s3rver (an S3-compatible server written for Node.js, from
// npm) on a loopback port, in a directory of its own: the S3 of the test
// harness (`furrsight services run`), so the S3 blob store is tested against
// a real server speaking the S3 protocol. It accepts the fixed credentials
// kAccessKey/kSecretKey and starts with the bucket kBucket.
//
// scripts/install-deps.sh installs it (scripts/node/package.json); Start
// fails with a message saying so when node or s3rver is missing. The server
// is a child of this process and stops with it (parent-death signal), like
// RedisServer. Not thread-safe; owned by one thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"
#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator {

class S3rverServer {
 public:
  static constexpr std::string_view kAccessKey = "S3RVER";  // s3rver's built-in account
  static constexpr std::string_view kSecretKey = "S3RVER";
  static constexpr std::string_view kRegion = "us-east-1";
  static constexpr std::string_view kBucket = "furrsight-test";

  // `dir` holds the objects (dir/data) and the log (dir/s3rver.log); `port` 0 picks a free one.
  static base::Result<std::unique_ptr<S3rverServer>> Start(const std::filesystem::path& dir, int port = 0);
  ~S3rverServer();

  int port() const { return port_; }
  std::string Endpoint() const;  // http://127.0.0.1:PORT
  void Stop();

 private:
  S3rverServer(int port, ChildProcess child) : port_(port), child_(std::move(child)) {}
  int port_;
  std::optional<ChildProcess> child_;
};

// The command that runs s3rver: node and s3rver's script, found from
// FURRSIGHT_S3RVER (the script's path), else the source tree's
// scripts/node/node_modules; kFailedPrecondition naming
// scripts/install-deps.sh when either is missing.
base::Result<std::vector<std::string>> S3rverCommand();

}  // namespace furrsight::orchestrator
