// Base64 (RFC 4648, standard alphabet, padded), for the data URLs that carry
// images to the model. Free functions, no state; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrsight::workers::inference {

std::string Base64Encode(std::string_view bytes);

// Strict: only the standard alphabet, length a multiple of 4, padding only
// at the end. nullopt for anything else.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace furrsight::workers::inference
