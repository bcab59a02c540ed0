// The REST API inside `furrsight dev`: an admin API key issued on the first
// run (kept in <data_dir>/admin-api-key, mode 0600, so later runs reuse it)
// and the ApiServer on api_port (a free port when that one is taken), checked
// with one real request for the pair list.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "events/base/config.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/api/api_server.hpp"

namespace furrsight::orchestrator::cli {

// The admin key of this data directory; `created` tells whether it is new.
base::Result<std::string> DevAdminKey(events::EventStore& store, const std::filesystem::path& data_dir,
                                      bool& created);

struct DevApi {
  std::unique_ptr<api::ApiServer> server;
  std::string url;         // http://127.0.0.1:<port>
  long long pairs_seen = 0;  // items on the first page of GET /api/v1/pairs
};

// Starts the API and reads the pair list through it with `key`.
base::Result<DevApi> StartDevApi(const base::Config& config, const std::string& key);

}  // namespace furrsight::orchestrator::cli
