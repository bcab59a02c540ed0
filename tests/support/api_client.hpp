// ApiClient: a small blocking HTTP/1.1 client (libcurl) for tests of the REST
// API: one request at a time on a kept-alive connection, headers and body
// back as they came. Not thread-safe: one client per thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace furrsight::testing {

struct ApiReply {
  long status = 0;                            // 0: no answer (the error says why)
  std::map<std::string, std::string> headers;  // names lower-cased; the last value of a repeated name
  std::string body;
  std::string error;

  boost::json::value Json() const;  // the body parsed; null if it does not parse
  std::string Header(const std::string& name) const;
};

class ApiClient {
 public:
  explicit ApiClient(std::string base_url);  // "http://127.0.0.1:8080"
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Headers sent with every request (e.g. {"X-API-Key", key}).
  void SetDefaultHeader(const std::string& name, const std::string& value);
  void ClearDefaultHeaders() { default_headers_.clear(); }

  ApiReply Send(const std::string& method, const std::string& path, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {});
  ApiReply Get(const std::string& path, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send("GET", path, "", headers);
  }
  ApiReply Post(const std::string& path, const boost::json::value& body,
                const std::vector<std::pair<std::string, std::string>>& headers = {});

  // GET a stream (Server-Sent Events): `keep_reading` sees the body so far
  // after every chunk; returning false ends the transfer there (not an error).
  ApiReply Stream(const std::string& path, const std::function<bool(const std::string& body)>& keep_reading,
                  const std::vector<std::pair<std::string, std::string>>& headers = {});

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  ApiReply Perform(const std::string& method, const std::string& path, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const std::function<bool(const std::string&)>* keep_reading);

  std::vector<std::pair<std::string, std::string>> default_headers_;
  void* curl_ = nullptr;  // CURL*
};

}  // namespace furrsight::testing
