#include "workers/scrape/search_provider.hpp"

#include <curl/curl.h>

#include <memory>
#include <unordered_set>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;
namespace json = boost::json;

struct Body {
  std::string text;
  std::size_t max = 0;
  bool too_large = false;
};

size_t Collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  std::size_t n = size * count;
  if (body->text.size() + n > body->max) {
    body->too_large = true;
    return 0;
  }
  body->text.append(data, n);
  return n;
}

std::string Escape(CURL* easy, std::string_view text) {
  std::unique_ptr<char, void (*)(void*)> escaped(curl_easy_escape(easy, text.data(), static_cast<int>(text.size())),
                                                 curl_free);
  return escaped ? std::string(escaped.get()) : std::string();
}

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

base::Result<std::vector<SearchResult>> ParseSearxngResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, fmt::format("search answer is not JSON: {}", ec.message()));
  if (!doc.is_object()) return Fail(ErrorCode::kUnavailable, "search answer is not a JSON object");
  const json::value* results = doc.as_object().if_contains("results");
  if (results == nullptr || !results->is_array())
    return Fail(ErrorCode::kUnavailable, "search answer has no results array");
  std::vector<SearchResult> out;
  for (const auto& item : results->as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    SearchResult r{StringField(o, "url"), StringField(o, "img_src"), StringField(o, "title"), StringField(o, "engine")};
    if (r.url.empty() && r.image_url.empty()) continue;
    out.push_back(std::move(r));
  }
  return out;
}

SearxngSearchProvider::SearxngSearchProvider(SearxngOptions options) : options_(std::move(options)) {
  while (options_.base_url.ends_with('/')) options_.base_url.pop_back();
}

base::Result<std::string> SearxngSearchProvider::Get(const std::string& url) {
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  Body body{.text = {}, .max = options_.max_bytes};
  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  if (!options_.user_agent.empty()) curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(curl_slist_append(nullptr, "Accept: application/json"),
                                                             curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  CURLcode code = curl_easy_perform(h);
  if (body.too_large)
    return Fail(ErrorCode::kUnavailable, fmt::format("search answer above {} bytes", options_.max_bytes));
  if (code == CURLE_OPERATION_TIMEDOUT) return Fail(ErrorCode::kTimeout, "search timed out");
  if (code != CURLE_OK) return Fail(ErrorCode::kUnavailable, fmt::format("search: {}", curl_easy_strerror(code)));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status == 403)
    return Fail(ErrorCode::kUnavailable, "search answered 403: is `json` in the SearxNG instance's search.formats?");
  if (status != 200) return Fail(ErrorCode::kUnavailable, fmt::format("search answered {}", status));
  return std::move(body.text);
}

base::Result<std::vector<SearchResult>> SearxngSearchProvider::Search(std::string_view query) {
  if (options_.base_url.empty()) return Fail(ErrorCode::kFailedPrecondition, "no search provider URL configured");
  std::unique_ptr<CURL, void (*)(CURL*)> escaper(curl_easy_init(), curl_easy_cleanup);
  if (!escaper) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  std::vector<SearchResult> out;
  std::unordered_set<std::string> seen;
  for (int page = 1; page <= std::max(1, options_.pages) && out.size() < options_.max_results; ++page) {
    std::string url = fmt::format("{}/search?q={}&format=json", options_.base_url, Escape(escaper.get(), query));
    if (!options_.categories.empty()) url += "&categories=" + Escape(escaper.get(), options_.categories);
    if (!options_.language.empty()) url += "&language=" + Escape(escaper.get(), options_.language);
    if (page > 1) url += fmt::format("&pageno={}", page);
    auto body = Get(url);
    if (!body) return std::unexpected(body.error());
    auto results = ParseSearxngResponse(*body);
    if (!results) return std::unexpected(results.error());
    if (results->empty()) break;
    for (auto& r : *results) {
      if (out.size() >= options_.max_results) break;
      if (seen.insert(r.url + "\n" + r.image_url).second) out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace furrsight::workers
