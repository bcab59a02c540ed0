// RedisNotifier: after an append commits, publishes a compact wake-up on
// Redis pub/sub: "<prefix>:events", "<prefix>:events:<category>" and any
// extra wake channels of the append. The message is a hint, never the truth:
// {"p":<global_position>,"tx":"<tx_id>","n":<events>}. The append's queue
// items are pushed (RPUSH, or LPUSH for `front`) on their lists, also hints.
//
// Appended() only queues; a background thread publishes, coalescing what
// piled up per channel, with a pipeline. When Redis is unreachable the hints
// are dropped (subscribers then find the events by polling) and a reconnect
// is tried at most once a second, so appends never wait on Redis.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/redis/redis_connection.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::events {

class RedisNotifier final : public Notifier {
 public:
  RedisNotifier(RedisAddress address, std::string prefix);
  ~RedisNotifier() override;

  void Appended(const AppendResult& result, std::span<const NewEvent> events, const AppendOptions& options) override;

  std::uint64_t published() const { return published_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  struct Pending {
    LogPosition last;
    std::int64_t count = 0;
  };
  void Run();

  const RedisAddress address_;
  const std::string prefix_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Pending> pending_;  // guarded by mu_
  std::vector<QueueItem> queued_;           // guarded by mu_
  bool stop_ = false;                       // guarded by mu_
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace furrsight::events
