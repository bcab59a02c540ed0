// Base64 (RFC 4648): the standard alphabet, padded (section 4: data URLs of
// images sent to the model) and the URL-safe alphabet without padding
// (section 5: JWTs, JWKS key material, API key secrets). Free functions, no
// state; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrsight::base {

std::string Base64Encode(std::string_view bytes);

// Strict: only the standard alphabet, length a multiple of 4, padding only
// at the end. nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

// "-" and "_" instead of "+" and "/", no "=" padding (as JWS writes it).
std::string Base64UrlEncode(std::string_view bytes);

// Strict: only the URL-safe alphabet, no padding, no whitespace; a length
// of 1 mod 4 (which no byte string encodes to) is refused. nullopt otherwise.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace furrsight::base
