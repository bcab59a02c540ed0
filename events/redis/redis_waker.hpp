// RedisWaker: wakes subscribers when Redis says something was appended.
//
// A background thread SUBSCRIBEs to the given channels and bumps a sequence
// number on every message; WaitFor() blocks until the sequence moves or a
// timeout passes. When Redis is unreachable the thread retries once a second
// and WaitFor() simply times out, so callers fall back to polling. On each
// (re)connection the sequence is bumped too: hints sent while Redis was
// down are lost, so subscribers must look again. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/redis/redis_connection.hpp"

namespace furrsight::events {

class RedisWaker {
 public:
  RedisWaker(RedisAddress address, std::vector<std::string> channels);
  ~RedisWaker();
  RedisWaker(const RedisWaker&) = delete;
  RedisWaker& operator=(const RedisWaker&) = delete;

  std::uint64_t sequence() const;
  // Returns the sequence once it differs from `seen`, or after `timeout`.
  std::uint64_t WaitFor(std::uint64_t seen, std::chrono::milliseconds timeout);
  bool connected() const { return connected_.load(); }
  std::uint64_t messages() const { return messages_.load(); }

 private:
  void Run();
  void Bump();

  const RedisAddress address_;
  const std::vector<std::string> channels_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t sequence_ = 0;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> messages_{0};
  std::thread thread_;  // last
};

}  // namespace furrsight::events
