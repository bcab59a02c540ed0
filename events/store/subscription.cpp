#include "events/store/subscription.hpp"

#include <algorithm>
#include <thread>

namespace furrsight::events {

std::vector<std::string> ChannelsFor(const std::string& prefix, const ReadFilter& filter) {
  if (filter.categories.empty()) return {AllEventsChannel(prefix)};
  std::vector<std::string> out;
  for (const auto& c : filter.categories) out.push_back(CategoryChannel(prefix, c));
  return out;
}

Subscription::Subscription(EventStore& store, RedisWaker* waker, SubscriptionOptions options)
    : store_(store), waker_(waker), options_(std::move(options)), position_(options_.from) {}

base::Result<std::vector<RecordedEvent>> Subscription::Next(std::chrono::milliseconds max_wait) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + max_wait;
  const auto poll = std::max(options_.poll_interval, std::chrono::milliseconds(1));
  for (;;) {
    const std::uint64_t seen = waker_ != nullptr ? waker_->sequence() : 0;
    auto batch = store_.ReadAll(position_, options_.filter, options_.batch_size);
    if (!batch) return batch;
    if (!batch->empty()) {
      position_ = batch->back().position;
      backoff_ = std::chrono::milliseconds(0);
      return batch;
    }
    const auto now = Clock::now();
    if (now >= deadline) return batch;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);

    if (backoff_.count() > 0) {
      // Woken, but the events are not readable yet: look again soon.
      std::this_thread::sleep_for(std::min(backoff_, left));
      backoff_ = backoff_ * 2 > poll ? std::chrono::milliseconds(0) : backoff_ * 2;
      continue;
    }
    if (waker_ == nullptr) {
      std::this_thread::sleep_for(std::min(poll, left));
      continue;
    }
    if (waker_->WaitFor(seen, std::min(poll, left)) != seen) backoff_ = std::chrono::milliseconds(1);
  }
}

}  // namespace furrsight::events
