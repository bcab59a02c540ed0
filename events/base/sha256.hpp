// SHA-256 through OpenSSL's EVP interface. Stateless functions and a small
// incremental hasher; both are thread-compatible (one hasher per thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace furrsight::base {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  Digest Finish();

 private:
  EVP_MD_CTX* ctx_;
};

Digest Sha256Of(std::string_view bytes);
std::string ToHex(const Digest& digest);
std::string Sha256Hex(std::string_view bytes);

}  // namespace furrsight::base
