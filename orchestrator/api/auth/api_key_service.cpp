#include "orchestrator/api/auth/api_key_service.hpp"

#include <chrono>

#include <fmt/format.h>

#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "orchestrator/api/auth/api_key.hpp"
#include "orchestrator/api/auth/roles.hpp"

namespace furrsight::api::auth {
namespace {

using base::ErrorCode;
using base::Fail;
namespace v1 = furrsight::events::v1;

constexpr std::size_t kMaxNameChars = 200;

std::string StreamOf(const std::string& key_id) { return "apikey-" + key_id; }

}  // namespace

base::Result<IssuedApiKey> ApiKeyService::Issue(const IssueApiKey& command, const events::EventMetadata& metadata) {
  const std::string name = base::Trim(command.name);
  if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "an API key needs a name saying what it is for (--name)");
  if (name.size() > kMaxNameChars)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("an API key's name is at most {} characters", kMaxNameChars));
  auto roles = ParseRoleList(JoinRoles(command.roles));
  if (!roles) return std::unexpected(roles.error());
  if (!command.user_id.empty() && !base::IsUuid(command.user_id))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("user id '{}' is not a uuid", command.user_id));
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (command.expires_at_us < 0 || (command.expires_at_us > 0 && command.expires_at_us <= now_us))
    return Fail(ErrorCode::kInvalidArgument, "an API key's expiry must lie in the future (--expires-in 90d)");

  const GeneratedApiKey key = GenerateApiKey();
  v1::ApiKeyIssued issued;
  issued.set_key_id(key.key_id);
  issued.set_prefix(key.prefix);
  issued.set_key_hash(key.secret_hash);
  issued.set_name(name);
  for (const auto& r : *roles) issued.add_roles(r);
  issued.set_user_id(command.user_id);
  issued.set_actor(metadata.actor);
  issued.set_expires_at_us(command.expires_at_us);
  const events::NewEvent event = events::MakeEvent(StreamOf(key.key_id), issued, metadata, base::NewUuid());
  auto appended = store_.Append(event.stream_id, events::ExpectedVersion::NoStream(), std::span(&event, 1));
  if (!appended) return std::unexpected(appended.error());
  return IssuedApiKey{key.key_id, key.prefix, key.key, *roles};
}

base::Result<void> ApiKeyService::Revoke(const std::string& key_id, const std::string& reason,
                                         const events::EventMetadata& metadata) {
  if (!IsApiKeyId(key_id))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not an API key id (16 hex characters, the part after fs_ in the key)", key_id));
  auto history = store_.ReadStream(StreamOf(key_id));
  if (!history) return std::unexpected(history.error());
  if (history->empty()) return Fail(ErrorCode::kNotFound, fmt::format("no API key {}", key_id));
  for (const auto& e : *history)
    if (e.type == "ApiKeyRevoked") return Fail(ErrorCode::kFailedPrecondition, fmt::format("API key {} is already revoked", key_id));

  v1::ApiKeyRevoked revoked;
  revoked.set_key_id(key_id);
  revoked.set_actor(metadata.actor);
  revoked.set_reason(reason);
  const events::NewEvent event = events::MakeEvent(StreamOf(key_id), revoked, metadata, base::NewUuid());
  auto appended = store_.Append(event.stream_id, events::ExpectedVersion::Exactly(history->back().stream_version),
                                std::span(&event, 1));
  if (!appended) return std::unexpected(appended.error());
  return {};
}

}  // namespace furrsight::api::auth
