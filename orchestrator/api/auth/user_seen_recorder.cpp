#include "orchestrator/api/auth/user_seen_recorder.hpp"

#include "events/base/log.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"

namespace furrsight::api::auth {
namespace {

namespace v1 = furrsight::events::v1;

constexpr std::string_view kUserIdNamespace = "furrsight.user.oidc";

// The most powerful role, for the profile's single role column.
std::string TopRole(const std::vector<std::string>& roles) {
  for (std::string_view r : {"admin", "operator", "auditor", "researcher"})
    for (const auto& have : roles)
      if (have == r) return have;
  return "";
}

}  // namespace

std::string UserIdFor(std::string_view issuer, std::string_view subject) {
  std::string name(issuer);
  name += '\n';
  name += subject;
  return base::UuidFromName(kUserIdNamespace, name);
}

EventStoreUserSeenRecorder::EventStoreUserSeenRecorder(events::EventStore& store)
    : EventStoreUserSeenRecorder(store, Options{}) {}
EventStoreUserSeenRecorder::EventStoreUserSeenRecorder(events::EventStore& store, Options options)
    : store_(store), options_(std::move(options)) {}

int EventStoreUserSeenRecorder::appended() const {
  std::lock_guard lock(mu_);
  return appended_;
}

void EventStoreUserSeenRecorder::Seen(const SeenUser& user) {
  const std::string user_id = UserIdFor(user.issuer, user.subject);
  const auto now = options_.clock();
  {
    std::lock_guard lock(mu_);
    auto it = last_seen_.find(user_id);
    if (it != last_seen_.end() && now - it->second < options_.interval) return;
    if (last_seen_.size() >= options_.max_remembered) last_seen_.clear();
    last_seen_[user_id] = now;  // before the append: concurrent requests of one user append once
  }
  v1::UserSeen seen;
  seen.set_subject(user.subject);
  seen.set_issuer(user.issuer);
  seen.set_email(user.email);
  seen.set_full_name(user.full_name);
  seen.set_avatar_url(user.avatar_url);
  seen.set_role(TopRole(user.roles));
  for (const auto& r : user.roles) seen.add_roles(r);
  const std::string id = base::NewUuid();
  const events::NewEvent event =
      events::MakeEvent("user-" + user_id, seen, {"user:" + user_id, id, id, "api"}, id);
  auto appended = store_.Append(event.stream_id, events::ExpectedVersion::Any(), std::span(&event, 1));
  std::lock_guard lock(mu_);
  if (!appended) {
    last_seen_.erase(user_id);  // try again on the next request
    base::log::Warn("could not record a user as seen", {{"user_id", user_id}, {"reason", appended.error().message}});
    return;
  }
  ++appended_;
}

}  // namespace furrsight::api::auth
