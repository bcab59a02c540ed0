// ApiKeyService: the commands on API keys — issue and revoke — as events on
// the key's stream apikey-<key_id> (ApiKeyIssued, ApiKeyRevoked). Issuing
// returns the whole key once; only the hash of its secret is recorded.
// Holds a reference to the store; thread-safe as the store is.
#pragma once

#include <string>
#include <vector>

#include "events/base/error.hpp"
#include "events/store/event.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::api::auth {

struct IssueApiKey {
  std::string name;                // what it is for, e.g. "nightly export"
  std::vector<std::string> roles;  // non-empty, each a known role
  std::string user_id;             // optional: the user it acts for
  std::int64_t expires_at_us = 0;  // optional: when it stops working (µs since the epoch); 0: never
};

struct IssuedApiKey {
  std::string key_id;
  std::string prefix;
  std::string key;  // fs_<key_id>_<secret>: shown once, never stored
  std::vector<std::string> roles;
};

class ApiKeyService {
 public:
  explicit ApiKeyService(events::EventStore& store) : store_(store) {}

  // kInvalidArgument for an empty name or bad roles.
  base::Result<IssuedApiKey> Issue(const IssueApiKey& command, const events::EventMetadata& metadata);

  // kNotFound for an unknown key id; kFailedPrecondition when already revoked.
  base::Result<void> Revoke(const std::string& key_id, const std::string& reason,
                            const events::EventMetadata& metadata);

 private:
  events::EventStore& store_;
};

}  // namespace furrsight::api::auth
