// UserSeenRecorder: records that the identity provider vouched for a user,
// as a UserSeen event on user-<uuid> — which PixCrawler's `profiles` read
// model turns into the user's profile (docs/read-models.md). The uuid is
// derived from (issuer, subject), so the same person always has the same id.
//
// EventStoreUserSeenRecorder appends at most once per user per `interval`
// (default one hour), remembered in memory per process: a restart or a
// second API process may append one more, which is harmless (the profile
// takes the latest values). A failed append is logged and forgotten — it
// never fails the request. Thread-safe (the throttle map is mutex-guarded).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "events/store/event_store.hpp"

namespace furrsight::api::auth {

struct SeenUser {
  std::string issuer;
  std::string subject;
  std::string email;
  std::string full_name;
  std::string avatar_url;
  std::vector<std::string> roles;
};

// The FurrSight user id of an IdP user: a name-based uuid of issuer and subject.
std::string UserIdFor(std::string_view issuer, std::string_view subject);

class UserSeenRecorder {
 public:
  virtual ~UserSeenRecorder() = default;
  virtual void Seen(const SeenUser& user) = 0;
};

class EventStoreUserSeenRecorder final : public UserSeenRecorder {
 public:
  struct Options {
    std::chrono::seconds interval{3600};
    std::size_t max_remembered = 100000;  // the map is cleared past this (at worst one more event per user)
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  };
  explicit EventStoreUserSeenRecorder(events::EventStore& store);
  EventStoreUserSeenRecorder(events::EventStore& store, Options options);

  void Seen(const SeenUser& user) override;
  int appended() const;  // UserSeen events appended so far

 private:
  events::EventStore& store_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> last_seen_;  // guarded by mu_; by user id
  int appended_ = 0;                                                                      // guarded by mu_
};

}  // namespace furrsight::api::auth
