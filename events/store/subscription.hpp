// Subscription: follows the log from a checkpoint — catch-up, then live —
// in gap-free order, without skipping or repeating an event.
//
// Next() returns the next batch after the current position. When there is
// none it waits: for a Redis wake-up when a RedisWaker is given (the live
// path), and in any case no longer than the poll interval before looking in
// PostgreSQL again (the path that needs no Redis). After a wake-up that finds
// nothing yet (the appending transaction's events sit behind an older one
// still running), it looks again after 1, 2, 4 ... ms up to the poll interval.
// Not thread-safe: one consumer per Subscription.
#pragma once

#include <chrono>
#include <vector>

#include "events/redis/redis_waker.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::events {

struct SubscriptionOptions {
  LogPosition from;  // exclusive
  ReadFilter filter;
  int batch_size = 500;
  std::chrono::milliseconds poll_interval{250};
};

class Subscription {
 public:
  // `waker` may be null (poll only); it must outlive the subscription.
  Subscription(EventStore& store, RedisWaker* waker, SubscriptionOptions options);

  // The next batch in log order, waiting up to `max_wait`; empty if none came.
  base::Result<std::vector<RecordedEvent>> Next(std::chrono::milliseconds max_wait);

  // Where the subscription stands: the last event delivered.
  const LogPosition& position() const { return position_; }

 private:
  EventStore& store_;
  RedisWaker* waker_;
  SubscriptionOptions options_;
  LogPosition position_;
  std::chrono::milliseconds backoff_{0};  // > 0 after a wake-up that found nothing yet
};

// The channels a subscriber with `filter` listens to.
std::vector<std::string> ChannelsFor(const std::string& prefix, const ReadFilter& filter);

}  // namespace furrsight::events
