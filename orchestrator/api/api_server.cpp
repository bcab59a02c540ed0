#include "orchestrator/api/api_server.hpp"

#include <fmt/format.h>

#include "events/store/store_context.hpp"
#include "orchestrator/api/auth/api_key_directory.hpp"
#include "orchestrator/api/auth/authenticator.hpp"
#include "orchestrator/api/auth/http_getter.hpp"
#include "orchestrator/api/auth/jwks_cache.hpp"
#include "orchestrator/api/auth/user_seen_recorder.hpp"
#include "orchestrator/api/http/http_server.hpp"
#include "orchestrator/api/read_cache.hpp"
#include "orchestrator/api/rebuild_runner.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "workers/storage/filesystem_blob_store.hpp"

namespace furrsight::api {

namespace {

std::string AdminUrlOf(const base::Config& config) {
  const auto& admin = config.Get("admin_database_url");
  return admin.empty() ? config.Get("database_url") : admin;
}

// The HTTP layer's Authenticator over the auth library's: credentials from
// Authorization / X-API-Key, the principal in the router's terms.
class HeaderAuthenticator final : public Authenticator {
 public:
  explicit HeaderAuthenticator(auth::Authenticator& inner) : inner_(inner) {}
  base::Result<Principal> Authenticate(const ApiRequest& request) override {
    auto who = inner_.Authenticate(request.Header("authorization"), request.Header("x-api-key"));
    if (!who) return std::unexpected(who.error());
    return Principal{.subject = who->subject,
                     .roles = who->roles,
                     .via = who->via,
                     .display_name = who->display_name,
                     .email = who->email,
                     .actor = who->actor};
  }

 private:
  auth::Authenticator& inner_;
};

}  // namespace

struct ApiServer::Parts {
  explicit Parts(const base::Config& c) : config(c), ctx(config, false, 16) {}
  base::Config config;
  events::StoreContext ctx;
  std::unique_ptr<orchestrator::jobs::JobService> jobs;
  std::unique_ptr<orchestrator::curation::CurationService> curation;
  std::unique_ptr<workers::BlobStore> blobs;
  MetricsRegistry metrics;
  std::unique_ptr<RebuildRunner> rebuilds;
  std::unique_ptr<ReadCache> cache;
  auth::CurlHttpGetter http_getter;
  std::unique_ptr<auth::JwksCache> jwks;
  std::unique_ptr<auth::PgApiKeyDirectory> key_store;
  std::unique_ptr<auth::CachingApiKeyDirectory> keys;
  std::unique_ptr<auth::EventStoreUserSeenRecorder> users_seen;
  std::unique_ptr<auth::Authenticator> auth;
  std::unique_ptr<HeaderAuthenticator> header_auth;
  std::unique_ptr<ApiServices> services;
  std::unique_ptr<Router> router;
  std::unique_ptr<HttpServer> server;
};

base::Result<std::unique_ptr<ApiServer>> ApiServer::Start(const base::Config& config) {
  auto p = std::make_unique<Parts>(config);
  const auto& c = p->config;
  p->jobs = std::make_unique<orchestrator::jobs::JobService>(*p->ctx.store);
  p->curation = std::make_unique<orchestrator::curation::CurationService>(*p->ctx.store);
  auto blobs = workers::MakeBlobStore(c);
  if (!blobs) return std::unexpected(blobs.error());
  p->blobs = std::move(*blobs);
  p->rebuilds = std::make_unique<RebuildRunner>(AdminUrlOf(c), *p->ctx.store);
  const auto& ttl_text = c.Get("api_cache_ttl_ms");
  if (ttl_text.empty() || ttl_text.size() > 9 || ttl_text.find_first_not_of("0123456789") != std::string::npos)
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("api_cache_ttl_ms '{}' is not a number of milliseconds (0 turns the cache off)",
                                  ttl_text));
  if (const auto ttl = std::stoll(ttl_text); ttl > 0) {
    if (auto address = events::ParseRedisUrl(c.Get("redis_url")))
      p->cache = std::make_unique<ReadCache>(*address, c.Get("redis_channel_prefix"), std::chrono::milliseconds(ttl));
  }
  const auto settings = auth::AuthSettings::FromConfig(c);
  if (!settings.oidc_issuer.empty())
    p->jwks = std::make_unique<auth::JwksCache>(p->http_getter, settings.DiscoveryUrl());
  p->key_store = std::make_unique<auth::PgApiKeyDirectory>(*p->ctx.pool);
  p->keys = std::make_unique<auth::CachingApiKeyDirectory>(*p->key_store);
  p->users_seen = std::make_unique<auth::EventStoreUserSeenRecorder>(*p->ctx.store);
  p->auth = std::make_unique<auth::Authenticator>(settings, p->jwks.get(), p->keys.get(), p->users_seen.get());
  p->header_auth = std::make_unique<HeaderAuthenticator>(*p->auth);
  p->services = std::unique_ptr<ApiServices>(new ApiServices{
      .config = c,
      .pool = *p->ctx.pool,
      .store = *p->ctx.store,
      .jobs = *p->jobs,
      .curation = *p->curation,
      .blobs = *p->blobs,
      .file_blobs = dynamic_cast<const workers::FilesystemBlobStore*>(p->blobs.get()),
      .metrics = p->metrics,
      .rebuilds = *p->rebuilds,
      .cache = p->cache.get(),
      .max_live_streams = std::max(1, c.GetInt("api_worker_threads") / 2),
      .authenticator = p->header_auth.get(),
      .live_recheck = std::chrono::milliseconds(c.GetInt("api_live_recheck_ms")),
      .read_model_wait = std::chrono::milliseconds(c.GetInt("api_read_model_wait_ms"))});
  p->router = std::make_unique<Router>(*p->header_auth);
  AddAllRoutes(*p->router, *p->services);
  AddUiRoutes(*p->router, c.Get("ui_dir").empty() ? std::filesystem::path(FURRSIGHT_SOURCE_UI_DIR)
                                                   : std::filesystem::path(c.Get("ui_dir")));
  HttpServerOptions options;
  options.address = c.Get("api_address");
  const auto& port = c.Get("api_port");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    return base::Fail(base::ErrorCode::kInvalidArgument,
                      fmt::format("api_port '{}' is not a port number (0-65535; 0 picks a free one)", port));
  options.port = static_cast<std::uint16_t>(std::stoi(port));
  options.io_threads = c.GetInt("api_io_threads");
  options.worker_threads = c.GetInt("api_worker_threads");
  options.body_limit = static_cast<std::size_t>(c.GetInt("api_body_limit_bytes"));
  options.read_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::milliseconds(c.GetInt("api_read_timeout_ms")) + std::chrono::milliseconds(999));
  p->server = std::make_unique<HttpServer>(options, *p->router, &p->metrics);
  if (auto ok = p->server->Start(); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(p)));
}

ApiServer::ApiServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ApiServer::~ApiServer() { Stop(); }

std::uint16_t ApiServer::port() const { return parts_->server->port(); }
const Router& ApiServer::router() const { return *parts_->router; }
void ApiServer::Stop() {
  if (parts_ && parts_->server) parts_->server->Stop();
}

}  // namespace furrsight::api
