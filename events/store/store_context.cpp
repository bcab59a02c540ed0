#include "orchestrator/cli/store_context.hpp"

#include "events/base/log.hpp"

namespace furrsight::orchestrator::cli {

namespace {
constexpr size_t kCliPoolSize = 4;
}

StoreContext::StoreContext(const base::Config& c, bool use_admin_url) : config(c) {
  std::string url = config.Get("database_url");
  if (use_admin_url && !config.Get("admin_database_url").empty()) url = config.Get("admin_database_url");
  pool = std::make_unique<events::PgPool>(url, kCliPoolSize, events::EventStore::PrepareStatements);
  if (auto address = events::ParseRedisUrl(config.Get("redis_url")))
    notifier = std::make_unique<events::RedisNotifier>(*address, config.Get("redis_channel_prefix"));
  else
    base::log::Warn("redis disabled", {{"error", address.error().message}});
  store = std::make_unique<events::EventStore>(*pool, notifier.get());
}

std::unique_ptr<events::RedisWaker> StoreContext::MakeWaker(const events::ReadFilter& filter) const {
  auto address = events::ParseRedisUrl(config.Get("redis_url"));
  if (!address) return nullptr;
  return std::make_unique<events::RedisWaker>(*address,
                                              events::ChannelsFor(config.Get("redis_channel_prefix"), filter));
}

std::chrono::milliseconds StoreContext::poll_interval() const {
  return std::chrono::milliseconds(config.GetInt("poll_interval_ms"));
}

}  // namespace furrsight::orchestrator::cli
