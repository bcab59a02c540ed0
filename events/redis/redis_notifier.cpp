#include "events/redis/redis_notifier.hpp"

#include <hiredis/hiredis.h>

#include <optional>

#include <fmt/format.h>

#include "events/base/log.hpp"

namespace furrsight::events {
namespace {

constexpr auto kConnectTimeout = std::chrono::milliseconds(200);
constexpr auto kCommandTimeout = std::chrono::milliseconds(500);
constexpr auto kReconnectEvery = std::chrono::seconds(1);

}  // namespace

RedisNotifier::RedisNotifier(RedisAddress address, std::string prefix)
    : address_(std::move(address)), prefix_(std::move(prefix)), thread_([this] { Run(); }) {}

RedisNotifier::~RedisNotifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void RedisNotifier::Appended(const AppendResult& result, std::span<const NewEvent> events,
                             const AppendOptions& options) {
  if (result.events.empty()) return;
  LogPosition last = result.events.back().position;
  auto add = [&](const std::string& channel, std::int64_t n) {
    Pending& p = pending_[channel];
    p.last = std::max(p.last, last);
    p.count += n;
  };
  {
    std::lock_guard lock(mu_);
    add(AllEventsChannel(prefix_), static_cast<std::int64_t>(events.size()));
    std::map<std::string, std::int64_t> per_category;
    for (const NewEvent& e : events) ++per_category[CategoryOf(e.stream_id)];
    for (const auto& [category, n] : per_category) add(CategoryChannel(prefix_, category), n);
    for (const auto& name : options.wake_channels) add(WakeChannel(prefix_, name), 1);
    queued_.insert(queued_.end(), options.queue_items.begin(), options.queue_items.end());
  }
  cv_.notify_one();
}

void RedisNotifier::Run() {
  std::optional<RedisConnection> conn;
  auto next_connect = std::chrono::steady_clock::now();
  for (;;) {
    std::map<std::string, Pending> batch;
    std::vector<QueueItem> queue;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty() || !queued_.empty(); });
      if (pending_.empty() && queued_.empty() && stop_) return;
      batch.swap(pending_);
      queue.swap(queued_);
    }
    if (!conn || !conn->ok()) {
      conn.reset();
      if (std::chrono::steady_clock::now() >= next_connect) {
        auto c = RedisConnection::Connect(address_, kConnectTimeout, kCommandTimeout);
        if (c) {
          conn = std::move(*c);
        } else {
          next_connect = std::chrono::steady_clock::now() + kReconnectEvery;
          base::log::Debug("redis publish skipped", {{"error", c.error().message}});
        }
      }
    }
    const size_t commands = batch.size() + queue.size();
    if (!conn) {
      dropped_ += commands;
      continue;
    }
    // Pipeline every push and PUBLISH (pushes first: a woken worker finds its item), then read the replies.
    for (const QueueItem& q : queue) {
      std::string key = QueueKey(prefix_, q.queue);
      redisAppendCommand(conn->get(), q.front ? "LPUSH %b %b" : "RPUSH %b %b", key.data(), key.size(), q.item.data(),
                         q.item.size());
    }
    for (const auto& [channel, p] : batch) {
      std::string message = fmt::format(R"({{"p":{},"tx":"{}","n":{}}})", p.last.global_position, p.last.tx_id, p.count);
      redisAppendCommand(conn->get(), "PUBLISH %b %b", channel.data(), channel.size(), message.data(), message.size());
    }
    for (size_t i = 0; i < commands; ++i) {
      void* reply = nullptr;
      if (redisGetReply(conn->get(), &reply) != REDIS_OK) {
        dropped_ += commands - i;
        base::log::Warn("redis publish failed; subscribers fall back to polling",
                        {{"error", conn->get()->errstr}});
        conn.reset();
        next_connect = std::chrono::steady_clock::now() + kReconnectEvery;
        break;
      }
      freeReplyObject(reply);
      ++published_;
    }
  }
}

}  // namespace furrsight::events
