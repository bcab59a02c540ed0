#include "events/store/store_context.hpp"

#include "events/base/log.hpp"

namespace furrsight::events {

StoreContext::StoreContext(const base::Config& c, bool use_admin_url, size_t pool_size) : config(c) {
  std::string url = config.Get("database_url");
  if (use_admin_url && !config.Get("admin_database_url").empty()) url = config.Get("admin_database_url");
  pool = std::make_unique<PgPool>(url, pool_size, EventStore::PrepareStatements);
  if (auto address = ParseRedisUrl(config.Get("redis_url")))
    notifier = std::make_unique<RedisNotifier>(*address, config.Get("redis_channel_prefix"));
  else
    base::log::Warn("redis disabled", {{"error", address.error().message}});
  store = std::make_unique<EventStore>(*pool, notifier.get());
}

std::unique_ptr<RedisWaker> StoreContext::MakeWaker(const ReadFilter& filter) const {
  auto address = ParseRedisUrl(config.Get("redis_url"));
  if (!address) return nullptr;
  return std::make_unique<RedisWaker>(*address,
                                              ChannelsFor(config.Get("redis_channel_prefix"), filter));
}

std::chrono::milliseconds StoreContext::poll_interval() const {
  return std::chrono::milliseconds(config.GetInt("poll_interval_ms"));
}

}  // namespace furrsight::events
