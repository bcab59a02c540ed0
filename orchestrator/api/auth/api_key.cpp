#include "orchestrator/api/auth/api_key.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "events/base/base64.hpp"
#include "events/base/sha256.hpp"

namespace furrsight::api::auth {
namespace {

constexpr std::size_t kKeyIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no API key can be issued without a working random source");
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

GeneratedApiKey GenerateApiKey() {
  GeneratedApiKey k;
  k.key_id = Hex(RandomBytes(kKeyIdBytes));
  k.secret = base::Base64UrlEncode(RandomBytes(kSecretBytes));
  k.prefix = std::string(kApiKeyPrefix) + k.key_id + "_";
  k.key = k.prefix + k.secret;
  k.secret_hash = HashApiKeySecret(k.secret);
  return k;
}

bool IsApiKeyId(std::string_view key_id) {
  if (key_id.size() != 2 * kKeyIdBytes) return false;
  for (char c : key_id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<ApiKeyParts> ParseApiKey(std::string_view key) {
  if (!key.starts_with(kApiKeyPrefix)) return std::nullopt;
  key.remove_prefix(kApiKeyPrefix.size());
  const size_t underscore = key.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  ApiKeyParts parts{std::string(key.substr(0, underscore)), std::string(key.substr(underscore + 1))};
  if (!IsApiKeyId(parts.key_id) || parts.secret.size() != kSecretChars || !base::Base64UrlDecode(parts.secret))
    return std::nullopt;
  return parts;
}

std::string HashApiKeySecret(std::string_view secret) { return base::Sha256Hex(secret); }

bool ApiKeySecretMatches(std::string_view secret, std::string_view stored_hash) {
  const std::string presented = HashApiKeySecret(secret);
  if (presented.size() != stored_hash.size()) return false;  // lengths are public (64)
  return CRYPTO_memcmp(presented.data(), stored_hash.data(), presented.size()) == 0;
}

}  // namespace furrsight::api::auth
