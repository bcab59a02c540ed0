#include "events/base/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <fmt/format.h>

namespace furrsight::base {
namespace {

constexpr SettingSpec kSettings[] = {
    {"database_url", "postgresql://furrsight_app@127.0.0.1:5432/furrsight",
     "libpq URI the services connect with (the furrsight_app role: INSERT and SELECT on events)"},
    {"admin_database_url", "",
     "libpq URI for migrations and operator commands (owner of the schema); empty: database_url"},
    {"redis_url", "redis://127.0.0.1:6379/0", "redis://host:port/db; Redis is an accelerator, never the truth"},
    {"redis_channel_prefix", "furrsight", "prefix of every Redis pub/sub channel FurrSight uses"},
    {"migrations_dir", "", "directory of numbered .sql files; empty: the migrations built into the binary"},
    {"data_dir", ".furrsight", "project-local directory of the embedded PostgreSQL, Redis and blob storage"},
    {"log_level", "info", "debug, info, warn or error"},
    {"poll_interval_ms", "250",
     "how often subscribers poll PostgreSQL when no Redis wake-up arrives (and always when Redis is down)", true},
    {"worker_slots", "4", "jobs one worker process runs at once", true},
    {"worker_grace_ms", "10000",
     "on SIGTERM, how long a worker lets running jobs finish before giving them back", true},
    {"job_limits", "SCRAPE_URL/key=2",
     "concurrency limits across all workers: TYPE=N (per job type), TYPE/key=N (per key, e.g. per target host), "
     "comma-separated"},
    {"scheduler_interval_ms", "500", "how often the scheduler looks for lapsed leases and start timeouts", true},
    // Blob storage (docs/storage.md).
    {"blob_store", "file", "where images and exports are kept: file (a directory) or s3 (S3-compatible storage)"},
    {"blob_dir", "", "root directory of the file blob store; empty: <data_dir>/blobs"},
    {"blob_signing_key", "",
     "HMAC key of the file store's presigned links; empty: a random key kept in <blob_dir>/.signing-key", false,
     true},
    {"export_scratch_dir", "", "where export jobs write archives before uploading them; empty: the system's temp directory"},
    {"s3_endpoint", "", "S3 endpoint, scheme://host[:port] (e.g. https://s3.eu-west-1.amazonaws.com); path-style"},
    {"s3_bucket", "furrsight", "S3 bucket holding FurrSight's blobs"},
    {"s3_region", "us-east-1", "S3 region used in request signatures (SigV4)"},
    {"s3_access_key", "", "S3 access key id"},
    {"s3_secret_key", "", "S3 secret access key", false, true},
    // Scraping (docs/scraping.md).
    {"scrape_user_agent",
     "FurrSightBot/0.1 (research crawler for a dog-grooming before/after image dataset; operator contact not "
     "configured)",
     "the crawler's User-Agent; its product token (FurrSightBot) is what robots.txt is matched on. Add a contact URL"},
    {"scrape_address_allowlist", "",
     "SSRF allowlist: loopback, private, CIDRs (comma-separated). Empty in production; loopback for the local demo"},
    {"scrape_connect_timeout_ms", "10000", "connect timeout per request hop", true},
    {"scrape_total_timeout_ms", "30000", "total timeout per request hop", true},
    {"scrape_max_in_flight", "16", "transfers at once, per crawl", true},
    {"scrape_max_per_host", "2", "transfers at once to one host", true},
    {"scrape_min_host_delay_ms", "1000", "between request starts to one host (0: none)"},
    {"scrape_max_image_bytes", "20971520", "an image larger than this is cut off while it streams in", true},
    {"scrape_resolve", "",
     "host:port:address,... like curl --resolve, for the demo's host names (the SSRF guard still judges the address)"},
    {"search_url", "", "SearxNG base URL for search queries (e.g. http://searxng:8080); empty: queries fail as search"},
    // The REST API (docs/api.md, docs/api-server.md).
    {"api_address", "127.0.0.1", "address `furrsight api` listens on (0.0.0.0: every interface)"},
    {"api_port", "8080", "port `furrsight api` listens on (0: any free port, printed at start)"},
    {"api_io_threads", "2", "threads reading and writing sockets", true},
    {"api_worker_threads", "8", "threads running request handlers (a live event stream holds one)", true},
    {"api_body_limit_bytes", "1048576", "largest request body accepted (413 beyond)", true},
    {"api_read_timeout_ms", "30000", "a request must arrive whole within this; idle connections close after it", true},
    {"api_read_model_wait_ms", "2000",
     "a curation command answers once the pair list shows it, or after this long marked X-FurrSight-Read-Model: lagging",
     true},
    {"api_live_recheck_ms", "15000",
     "an open /api/v1/events/live stream checks its credential again this often; revoked or expired ends it", true},
    {"ui_dir", "", "directory of the curation page's static files; empty: the ui/ folder of the source tree"},
    {"api_cache_ttl_ms", "30000",
     "hot pair reads are cached in Redis this long (keyed by the read model's position, so never stale); 0: no cache"},
    // Inference (docs/inference.md).
    {"inference_base_url", "",
     "OpenAI-compatible endpoint, e.g. http://gpu-1:8000/v1 (vLLM); empty: inference jobs fail at once with "
     "\"no model endpoint configured\""},
    {"inference_model", "Qwen/Qwen2.5-VL-7B-Instruct", "the model name sent in every request (vLLM --served-model-name)"},
    {"inference_api_key", "", "sent as Authorization: Bearer <key> (vLLM --api-key)", false, true},
    {"inference_max_in_flight", "8", "model requests on the wire at once, per worker process", true},
    {"inference_timeout_ms", "120000", "per HTTP attempt to the model server", true},
    {"inference_max_attempts", "4", "HTTP attempts per model call (retries on 429, 5xx, connection errors)", true},
    {"inference_image_max_side", "1024", "images are downscaled to at most this many pixels on their longer side", true},
    // Authentication (docs/auth.md).
    {"oidc_issuer", "",
     "the identity provider's issuer URL (the JWTs' iss); empty: bearer tokens are refused, API keys still work"},
    {"oidc_discovery_url", "", "its discovery document; empty: <oidc_issuer>/.well-known/openid-configuration"},
    {"oidc_audience", "", "the aud a token must carry (required when oidc_issuer is set)"},
    {"oidc_roles_claim", "roles", "the claim holding a user's roles, a dotted path (realm_access.roles for Keycloak)"},
    {"oidc_leeway_seconds", "60", "clock skew allowed when checking exp and nbf (0 or more)"},
};

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::span<const SettingSpec> AllSettings() { return kSettings; }

const SettingSpec* FindSetting(std::string_view key) {
  for (const auto& s : kSettings)
    if (s.key == key) return &s;
  return nullptr;
}

std::string EnvName(std::string_view key) {
  std::string out = "FURRSIGHT_";
  for (char c : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string FlagName(std::string_view key) {
  std::string out = "--";
  for (char c : key) out += c == '_' ? '-' : c;
  return out;
}

std::string RedactUrl(std::string_view url) {
  static const std::regex kUserInfo(R"(^([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*):[^@/]*@)");
  static const std::regex kKeyword(R"((password\s*=\s*)('[^']*'|\S+))");
  std::string out = std::regex_replace(std::string(url), kUserInfo, "$1:***@");
  return std::regex_replace(out, kKeyword, "$1***");
}

std::optional<std::string> Config::ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Config Config::WithOverrides(const std::map<std::string, std::string>& values) {
  Config config;
  for (const auto& s : kSettings) config.values_[std::string(s.key)] = {std::string(s.default_value), "default"};
  for (const auto& [k, v] : values) {
    if (FindSetting(k) == nullptr) throw std::logic_error("Config::WithOverrides: unknown setting " + k);
    config.values_[k] = {v, "flag"};
  }
  return config;
}

Config Config::Overridden(const std::map<std::string, std::string>& values) const {
  Config config = *this;
  for (const auto& [k, v] : values) {
    if (FindSetting(k) == nullptr) throw std::logic_error("Config::Overridden: unknown setting " + k);
    config.values_[k] = {v, "flag"};
  }
  return config;
}

Result<Config> Config::Load(const std::optional<std::filesystem::path>& file,
                            const std::map<std::string, std::string>& flags, const EnvLookup& env) {
  Config config = WithOverrides({});

  std::optional<std::filesystem::path> path = file;
  if (!path) {
    if (auto from_env = env("FURRSIGHT_CONFIG")) path = *from_env;
    else if (std::filesystem::exists("furrsight.conf")) path = "furrsight.conf";
  }
  if (path) {
    std::ifstream in(*path);
    if (!in)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cannot read config file {}: check the path given by --config or FURRSIGHT_CONFIG",
                              path->string()));
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      size_t eq = t.find('=');
      if (eq == std::string::npos)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}:{}: expected 'key = value', got '{}'", path->string(), line_no, t));
      std::string key = Trim(t.substr(0, eq));
      if (FindSetting(key) == nullptr)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("{}:{}: unknown setting '{}' (see 'furrsight config')", path->string(), line_no, key));
      config.values_[key] = {Trim(t.substr(eq + 1)), "file"};
    }
  }
  for (const auto& s : kSettings)
    if (auto v = env(EnvName(s.key))) config.values_[std::string(s.key)] = {*v, "env"};
  for (const auto& [k, v] : flags) {
    if (FindSetting(k) == nullptr)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown setting {}", FlagName(k)));
    config.values_[k] = {v, "flag"};
  }
  if (!config.values_.at("oidc_issuer").text.empty() && config.values_.at("oidc_audience").text.empty())
    return Fail(ErrorCode::kInvalidArgument,
                "oidc_audience is required when oidc_issuer is set (the aud your identity provider puts in "
                "tokens for FurrSight, e.g. --oidc-audience furrsight-api)");
  if (const std::string& leeway = config.values_.at("oidc_leeway_seconds").text;
      leeway.empty() || leeway.size() > 6 || !std::all_of(leeway.begin(), leeway.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("oidc_leeway_seconds must be a whole number of seconds (0 or more), not '{}'", leeway));
  for (const auto& s : kSettings) {
    if (!s.positive_integer) continue;
    const Value& v = config.values_.at(std::string(s.key));
    bool ok = !v.text.empty() && v.text.size() < 10 &&
              std::all_of(v.text.begin(), v.text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
              std::stoi(v.text) > 0;
    if (!ok)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must be a whole number above 0, not '{}' (from {})",
                                                           s.key, v.text, v.source));
  }
  return config;
}

const std::string& Config::Get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("Config::Get: undeclared setting " + std::string(key));
  return it->second.text;
}

int Config::GetInt(std::string_view key) const { return std::stoi(Get(key)); }

std::string_view Config::SourceOf(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string_view("unknown") : it->second.source;
}

std::vector<std::string> Config::Describe() const {
  std::vector<std::string> out;
  for (const auto& s : kSettings) {
    const Value& v = values_.at(std::string(s.key));
    std::string shown = s.secret && !v.text.empty() ? std::string("***") : RedactUrl(v.text);
    out.push_back(fmt::format("{:<22} = {:<50} ({}; env {}, flag {})", s.key, shown, v.source,
                              EnvName(s.key), FlagName(s.key)));
  }
  return out;
}

}  // namespace furrsight::base
