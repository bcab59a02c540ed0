// HMAC-SHA256 through OpenSSL, for request signatures (SigV4) and the file
// store's presigned links. Stateless functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace furrsight::workers {

// The 32 raw bytes of HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Lower-case hex of raw bytes.
std::string HexOf(std::string_view bytes);
// Compares in time that depends only on the lengths (for signatures).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace furrsight::workers
