// StoreContext: what a CLI command needs to talk to the log, built from the
// settings: a small connection pool as the service role, the event store,
// and (for --follow) Redis wake-ups.
#pragma once

#include <memory>

#include "events/base/config.hpp"
#include "events/redis/redis_notifier.hpp"
#include "events/redis/redis_waker.hpp"
#include "events/store/event_store.hpp"
#include "events/store/subscription.hpp"

namespace furrsight::orchestrator::cli {

struct StoreContext {
  explicit StoreContext(const base::Config& config, bool use_admin_url = false);

  // A waker for `filter`'s channels, or null when redis_url is unusable.
  std::unique_ptr<events::RedisWaker> MakeWaker(const events::ReadFilter& filter) const;
  std::chrono::milliseconds poll_interval() const;

  const base::Config& config;
  std::unique_ptr<events::PgPool> pool;
  std::unique_ptr<events::RedisNotifier> notifier;  // null when redis_url is unusable
  std::unique_ptr<events::EventStore> store;
};

}  // namespace furrsight::orchestrator::cli
