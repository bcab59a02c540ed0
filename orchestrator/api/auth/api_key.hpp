// ApiKey: the format of FurrSight API keys and how a presented key is checked.
//
//   fs_<key_id>_<secret>
//
// key_id: 16 lower-case hex characters (8 random bytes), public — it names
// the key's stream (apikey-<key_id>) and appears in lists and logs.
// secret: 32 random bytes from OpenSSL's RAND_bytes, base64url (43 chars).
// Only SHA-256(secret) is ever stored (in ApiKeyIssued and the api_keys
// table); the whole key is shown once, to whoever issued it. A presented
// secret is compared with the stored hash in constant time. Stateless;
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrsight::api::auth {

inline constexpr std::string_view kApiKeyPrefix = "fs_";

struct GeneratedApiKey {
  std::string key_id;
  std::string secret;
  std::string key;          // fs_<key_id>_<secret>: give it to the user, then forget it
  std::string prefix;       // fs_<key_id>_
  std::string secret_hash;  // SHA-256 of the secret, lower-case hex
};

// Fails loudly (std::runtime_error) if OpenSSL's random generator does.
GeneratedApiKey GenerateApiKey();

struct ApiKeyParts {
  std::string key_id;
  std::string secret;
};

// nullopt unless `key` has the format above.
std::optional<ApiKeyParts> ParseApiKey(std::string_view key);

bool IsApiKeyId(std::string_view key_id);

std::string HashApiKeySecret(std::string_view secret);

// SHA-256(secret) == stored_hash, compared in constant time.
bool ApiKeySecretMatches(std::string_view secret, std::string_view stored_hash);

}  // namespace furrsight::api::auth
