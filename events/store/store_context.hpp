// StoreContext: what a process (a CLI command, a worker) needs to talk to the
// log, built from the settings: a small connection pool as the service role, the event store,
// and (for --follow) Redis wake-ups.
#pragma once

#include <memory>

#include "events/base/config.hpp"
#include "events/redis/redis_notifier.hpp"
#include "events/redis/redis_waker.hpp"
#include "events/store/event_store.hpp"
#include "events/store/subscription.hpp"

namespace furrsight::events {

struct StoreContext {
  // `pool_size`: connections the process may hold at once.
  explicit StoreContext(const base::Config& config, bool use_admin_url = false, size_t pool_size = 4);

  // A waker for `filter`'s channels, or null when redis_url is unusable.
  std::unique_ptr<RedisWaker> MakeWaker(const ReadFilter& filter) const;
  std::chrono::milliseconds poll_interval() const;

  const base::Config& config;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<RedisNotifier> notifier;  // null when redis_url is unusable
  std::unique_ptr<EventStore> store;
};

}  // namespace furrsight::events
