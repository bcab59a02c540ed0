#include <memory>

#include <curl/curl.h>
#include <fmt/format.h>

#include "orchestrator/api/auth/http_getter.hpp"

namespace furrsight::api::auth {
namespace {

struct Sink {
  std::string body;
  std::size_t limit = 0;
  bool too_large = false;
};

size_t Write(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body.size() + n > sink->limit) {
    sink->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body.append(data, n);
  return n;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

}  // namespace

CurlHttpGetter::CurlHttpGetter() : CurlHttpGetter(Options{}) {}
CurlHttpGetter::CurlHttpGetter(Options options) : options_(options) {}

base::Result<HttpGetResponse> CurlHttpGetter::Get(const std::string& url) {
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) return base::Fail(base::ErrorCode::kInternal, "libcurl could not create a handle");
  Sink sink;
  sink.limit = options_.max_body_bytes;
  char error[CURL_ERROR_SIZE] = {};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // an IdP's metadata does not move; a redirect is suspicious
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "furrsight-auth/1");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  const CURLcode rc = curl_easy_perform(h);
  if (sink.too_large)
    return base::Fail(base::ErrorCode::kUnavailable,
                      fmt::format("GET {}: the response is larger than {} bytes", url, options_.max_body_bytes));
  if (rc != CURLE_OK)
    return base::Fail(base::ErrorCode::kUnavailable,
                      fmt::format("GET {}: {}", url, error[0] != '\0' ? error : curl_easy_strerror(rc)));
  HttpGetResponse response;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(sink.body);
  return response;
}

}  // namespace furrsight::api::auth
