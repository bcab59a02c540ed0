#include "orchestrator/api/auth/jwks_cache.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "events/base/log.hpp"

namespace furrsight::api::auth {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

}  // namespace

JwksCache::JwksCache(HttpGetter& http, std::string discovery_url) : JwksCache(http, std::move(discovery_url), Options{}) {}

JwksCache::JwksCache(HttpGetter& http, std::string discovery_url, Options options)
    : http_(http), discovery_url_(std::move(discovery_url)), options_(std::move(options)) {}

std::string JwksCache::DiscoveryUrlFor(std::string_view issuer) {
  while (issuer.ends_with('/')) issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

int JwksCache::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetch_count_;
}

base::Result<std::string> JwksCache::GetJson(const std::string& url, std::string_view what) {
  auto response = http_.Get(url);
  if (!response)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("identity provider unreachable: {} ({})", what, response.error().message));
  if (response->status != 200)
    return Fail(ErrorCode::kUnavailable,
                fmt::format("identity provider answered HTTP {} for its {} at {}", response->status, what, url));
  return std::move(response->body);
}

base::Result<void> JwksCache::FetchLocked() {
  last_fetch_ = options_.clock();
  ++fetch_count_;
  auto discovery_text = GetJson(discovery_url_, "discovery document");
  if (!discovery_text) return std::unexpected(discovery_text.error());
  boost::system::error_code ec;
  json::value discovery = json::parse(*discovery_text, ec);
  const json::value* jwks_uri = !ec && discovery.is_object() ? discovery.as_object().if_contains("jwks_uri") : nullptr;
  if (jwks_uri == nullptr || !jwks_uri->is_string())
    return Fail(ErrorCode::kUnavailable,
                fmt::format("identity provider's discovery document at {} has no jwks_uri", discovery_url_));

  const std::string jwks_url(jwks_uri->as_string());
  auto jwks_text = GetJson(jwks_url, "key set (JWKS)");
  if (!jwks_text) return std::unexpected(jwks_text.error());
  json::value jwks = json::parse(*jwks_text, ec);
  const json::value* keys = !ec && jwks.is_object() ? jwks.as_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array())
    return Fail(ErrorCode::kUnavailable, fmt::format("identity provider's JWKS at {} has no keys array", jwks_url));

  std::map<std::string, std::shared_ptr<EVP_PKEY>, std::less<>> fresh;
  for (const json::value& k : keys->as_array()) {
    if (!k.is_object()) continue;
    auto jwk = ParseJwk(k.as_object());
    if (!jwk) {
      base::log::Warn("skipping a key of the identity provider's JWKS", {{"url", jwks_url}, {"reason", jwk.error().message}});
      continue;
    }
    fresh[jwk->kid] = std::shared_ptr<EVP_PKEY>(jwk->key.release(), EVP_PKEY_free);
  }
  if (fresh.empty())
    return Fail(ErrorCode::kUnavailable, fmt::format("identity provider's JWKS at {} has no usable key (RSA or EC P-256)", jwks_url));
  keys_ = std::move(fresh);
  last_success_ = last_fetch_;
  base::log::Info("fetched the identity provider's keys", {{"url", jwks_url}, {"keys", keys_.size()}});
  return {};
}

base::Result<std::shared_ptr<EVP_PKEY>> JwksCache::Key(std::string_view kid) {
  std::lock_guard lock(mu_);
  auto find = [&]() -> std::shared_ptr<EVP_PKEY> {
    if (kid.empty()) return keys_.size() == 1 ? keys_.begin()->second : nullptr;
    auto it = keys_.find(kid);
    return it == keys_.end() ? nullptr : it->second;
  };
  auto may_fetch = [&] { return !last_fetch_ || options_.clock() - *last_fetch_ >= options_.min_refetch_interval; };
  if (last_success_ && options_.clock() - *last_success_ >= options_.max_age && may_fetch()) {
    if (auto refreshed = FetchLocked(); !refreshed)
      base::log::Warn("could not refresh the identity provider's keys; keeping the cached ones",
                      {{"reason", refreshed.error().message}});
  }
  if (auto key = find()) return key;

  if (may_fetch()) {
    auto fetched = FetchLocked();
    if (!fetched) {
      base::log::Warn("could not fetch the identity provider's keys", {{"reason", fetched.error().message}});
      return std::unexpected(fetched.error());
    }
    if (auto key = find()) return key;
  } else if (keys_.empty()) {
    return Fail(ErrorCode::kUnavailable,
                "identity provider unreachable: its keys could not be fetched recently; retry in a few seconds");
  }
  if (kid.empty())
    return Fail(ErrorCode::kInvalidArgument, "token refused: it names no key (kid) and the provider has several");
  return Fail(ErrorCode::kInvalidArgument,
              fmt::format("token refused: unknown signing key {} (not in the identity provider's key set)", std::string(kid)));
}

}  // namespace furrsight::api::auth
