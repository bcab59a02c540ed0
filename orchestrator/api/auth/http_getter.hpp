// HttpGetter: the one thing authentication needs from the network — GET a
// small JSON document (the identity provider's discovery document and its
// JWKS). An interface, so the logic above it is tested against a local
// server or a stub; CurlHttpGetter is the real one.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "events/base/error.hpp"

namespace furrsight::api::auth {

struct HttpGetResponse {
  long status = 0;
  std::string body;
};

class HttpGetter {
 public:
  virtual ~HttpGetter() = default;
  // kUnavailable when the server cannot be reached, times out or sends more
  // than the size limit; any HTTP status is a response.
  virtual base::Result<HttpGetResponse> Get(const std::string& url) = 0;
};

// libcurl, one easy handle per call (these are rare: a JWKS is fetched once
// and on key rotation). Thread-safe.
class CurlHttpGetter final : public HttpGetter {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds timeout{5000};   // the whole exchange
    std::size_t max_body_bytes = 1 << 20;      // a JWKS is a few kB
  };
  CurlHttpGetter();
  explicit CurlHttpGetter(Options options);

  base::Result<HttpGetResponse> Get(const std::string& url) override;

 private:
  Options options_;
};

}  // namespace furrsight::api::auth
