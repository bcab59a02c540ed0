#include "orchestrator/cli/dev_api.hpp"

#include <fstream>
#include <thread>

#include <boost/json.hpp>
#include <curl/curl.h>
#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "orchestrator/api/auth/api_key_service.hpp"
#include "orchestrator/embedded/child_process.hpp"

namespace furrsight::orchestrator::cli {

namespace fs = std::filesystem;

base::Result<std::string> DevAdminKey(events::EventStore& store, const fs::path& data_dir, bool& created) {
  const fs::path file = data_dir / "admin-api-key";
  created = false;
  if (std::ifstream in(file); in) {
    std::string key;
    in >> key;
    if (!key.empty()) return key;
  }
  api::auth::ApiKeyService keys(store);
  const std::string id = base::NewUuid();
  auto issued = keys.Issue({.name = "furrsight dev admin", .roles = {"admin"}}, {"system:dev", id, id, "cli"});
  if (!issued) return std::unexpected(issued.error());
  {
    std::ofstream out(file, std::ios::trunc);
    out << issued->key << '\n';
  }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  created = true;
  return issued->key;
}

namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET url with the key; the status and body.
std::pair<long, std::string> Fetch(const std::string& url, const std::string& key) {
  CURL* curl = curl_easy_init();
  std::string body;
  const std::string header = "X-API-Key: " + key;
  curl_slist* headers = curl_slist_append(nullptr, header.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return {status, body};
}

}  // namespace

base::Result<DevApi> StartDevApi(const base::Config& config, const std::string& key) {
  auto effective = config;
  const auto& port = config.Get("api_port");
  const bool numeric = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && port != "0" && !PortIsFree(std::stoi(port))) {
    fmt::print("  api           port {} is taken; using a free one\n", port);
    effective = config.Overridden({{"api_port", "0"}});
  }
  auto server = api::ApiServer::Start(effective);
  if (!server) return std::unexpected(server.error());
  DevApi out;
  out.url = fmt::format("http://{}:{}", effective.Get("api_address"), (*server)->port());
  out.server = std::move(*server);
  // The key was just issued: its read model may need a moment (more on a
  // loaded machine, where the projector is catching up on the whole demo).
  for (int attempt = 0; attempt < 300; ++attempt) {
    auto [status, body] = Fetch(out.url + "/api/v1/pairs?limit=200", key);
    if (status == 200) {
      boost::json::error_code ec;
      auto page = boost::json::parse(body, ec);
      if (!ec && page.is_object()) out.pairs_seen = static_cast<long long>(page.at("items").as_array().size());
      return out;
    }
    if (status != 401 && status != 503)
      return base::Fail(base::ErrorCode::kInternal,
                        fmt::format("the API answered {} to GET /api/v1/pairs: {}", status, body.substr(0, 300)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return base::Fail(base::ErrorCode::kUnavailable,
                    "the API did not accept the admin key within 30 s; see the projector's log lines above");
}

}  // namespace furrsight::orchestrator::cli
