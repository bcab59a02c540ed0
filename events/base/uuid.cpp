#include "events/base/uuid.hpp"

#include <array>
#include <cstdint>
#include <random>

#include "events/base/sha256.hpp"

namespace furrsight::base {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

constexpr std::size_t kTextLength = 36;
constexpr std::array<std::size_t, 4> kDashes = {8, 13, 18, 23};

// Sets the version nibble and the RFC 4122 variant bits (10xx).
void Stamp(Bytes& bytes, int version) {
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | (version << 4));
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
}

std::string Format(const Bytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kTextLength);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

std::mt19937_64& Generator() {
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return generator;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

std::string NewUuid() {
  Bytes bytes;
  std::mt19937_64& generator = Generator();
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    std::uint64_t word = generator();
    for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  Stamp(bytes, 4);
  return Format(bytes);
}

std::string UuidFromName(std::string_view namespace_name, std::string_view name) {
  Sha256 hasher;
  hasher.Update(std::to_string(namespace_name.size()));
  hasher.Update(":");
  hasher.Update(namespace_name);
  hasher.Update(name);
  Digest digest = hasher.Finish();
  Bytes bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = digest[i];
  Stamp(bytes, 8);
  return Format(bytes);
}

bool IsUuid(std::string_view text) {
  if (text.size() != kTextLength) return false;
  std::size_t next_dash = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (next_dash < kDashes.size() && i == kDashes[next_dash]) {
      if (text[i] != '-') return false;
      ++next_dash;
    } else if (!IsHexDigit(text[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace furrsight::base
