#include "events/redis/redis_waker.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <optional>

#include "events/base/log.hpp"

namespace furrsight::events {
namespace {

constexpr auto kConnectTimeout = std::chrono::milliseconds(200);
constexpr auto kRetryEvery = std::chrono::seconds(1);
constexpr int kPollMs = 100;  // how often the thread checks for stop

}  // namespace

RedisWaker::RedisWaker(RedisAddress address, std::vector<std::string> channels)
    : address_(std::move(address)), channels_(std::move(channels)), thread_([this] { Run(); }) {}

RedisWaker::~RedisWaker() {
  stop_ = true;
  thread_.join();
}

std::uint64_t RedisWaker::sequence() const {
  std::lock_guard lock(mu_);
  return sequence_;
}

void RedisWaker::Bump() {
  {
    std::lock_guard lock(mu_);
    ++sequence_;
  }
  cv_.notify_all();
}

std::uint64_t RedisWaker::WaitFor(std::uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return sequence_ != seen; });
  return sequence_;
}

void RedisWaker::Run() {
  while (!stop_) {
    auto conn = RedisConnection::Connect(address_, kConnectTimeout, std::chrono::seconds(2));
    if (!conn) {
      for (auto until = std::chrono::steady_clock::now() + kRetryEvery;
           !stop_ && std::chrono::steady_clock::now() < until;)
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
      continue;
    }
    bool subscribed = true;
    for (const auto& channel : channels_) {
      void* reply = nullptr;
      if (redisAppendCommand(conn->get(), "SUBSCRIBE %b", channel.data(), channel.size()) != REDIS_OK) subscribed = false;
      (void)reply;
    }
    // Read the subscribe confirmations.
    for (size_t i = 0; subscribed && i < channels_.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(conn->get(), &reply) != REDIS_OK) subscribed = false;
      if (reply != nullptr) freeReplyObject(reply);
    }
    if (!subscribed) continue;
    connected_ = true;
    base::log::Debug("redis wake-ups live", {{"channels", static_cast<std::int64_t>(channels_.size())}});
    Bump();  // anything published while we were away is lost: look again
    while (!stop_) {
      pollfd pfd{conn->get()->fd, POLLIN, 0};
      int ready = ::poll(&pfd, 1, kPollMs);
      if (ready == 0) continue;
      if (ready < 0 || redisBufferRead(conn->get()) != REDIS_OK) break;
      void* reply = nullptr;
      bool any = false;
      while (redisGetReplyFromReader(conn->get(), &reply) == REDIS_OK && reply != nullptr) {
        any = true;
        ++messages_;
        freeReplyObject(reply);
        reply = nullptr;
      }
      if (any) Bump();
    }
    connected_ = false;
    base::log::Info("redis wake-ups lost; polling PostgreSQL until Redis is back");
  }
}

}  // namespace furrsight::events
