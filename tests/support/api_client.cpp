#include "tests/support/api_client.hpp"

#include <algorithm>
#include <cctype>

#include <utility>

#include <curl/curl.h>

namespace furrsight::testing {

namespace json = boost::json;

json::value ApiReply::Json() const {
  json::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string ApiReply::Header(const std::string& name) const {
  std::string lower = name;
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto it = headers.find(lower);
  return it == headers.end() ? std::string() : it->second;
}

ApiClient::ApiClient(std::string base_url) : base_url_(std::move(base_url)), curl_(curl_easy_init()) {}

ApiClient::~ApiClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

void ApiClient::SetDefaultHeader(const std::string& name, const std::string& value) {
  std::erase_if(default_headers_, [&](const auto& h) { return h.first == name; });
  default_headers_.emplace_back(name, value);
}

namespace {

struct BodySink {
  std::string* body;
  const std::function<bool(const std::string&)>* keep_reading;  // null: read to the end
  bool stopped = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  sink->body->append(data, size * n);
  if (sink->keep_reading && !(*sink->keep_reading)(*sink->body)) {
    sink->stopped = true;
    return 0;  // ends the transfer
  }
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  if (line.starts_with("HTTP/")) headers->clear();  // a new response (after a 100 Continue)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(value.begin());
    (*headers)[name] = value;
  }
  return size * n;
}

}  // namespace

ApiReply ApiClient::Send(const std::string& method, const std::string& path, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  return Perform(method, path, body, headers, nullptr);
}

ApiReply ApiClient::Stream(const std::string& path, const std::function<bool(const std::string&)>& keep_reading,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  return Perform("GET", path, "", headers, &keep_reading);
}

ApiReply ApiClient::Perform(const std::string& method, const std::string& path, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::function<bool(const std::string&)>* keep_reading) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  ApiReply reply;
  const std::string url = base_url_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Expect:");
  bool has_type = false;
  for (const auto* set : {&std::as_const(default_headers_), &headers})
    for (const auto& [name, value] : *set) {
      has_type = has_type || name == "Content-Type";
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
  if (!body.empty() && !has_type) list = curl_slist_append(list, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  BodySink sink{&reply.body, keep_reading};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.stopped)) {
    reply.error = curl_easy_strerror(rc);
    return reply;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

ApiReply ApiClient::Post(const std::string& path, const json::value& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  return Send("POST", path, json::serialize(body), headers);
}

}  // namespace furrsight::testing
