// The log for auditors — the global feed from a checkpoint in pages, one
// stream, the audit chain's head and verification — and the live feed of
// events as Server-Sent Events for the curation page.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/redis/redis_waker.hpp"
#include "events/store/audit_seal.hpp"
#include "events/store/subscription.hpp"
#include "orchestrator/api/http/authenticator.hpp"
#include "orchestrator/api/http/problem.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using base::ErrorCode;
using base::Fail;

inline constexpr int kMaxFeedPage = 1000;
inline const std::vector<std::string> kCurationCategories = {"pair", "job", "breed", "service"};
inline constexpr auto kKeepAlive = std::chrono::seconds(15);

// ?category=a,b&type=X,Y
base::Result<events::ReadFilter> FilterParams(const ApiRequest& req) {
  events::ReadFilter filter;
  auto split = [](const std::string& text, std::vector<std::string>& out) -> base::Result<void> {
    std::size_t start = 0;
    while (start <= text.size() && !text.empty()) {
      const auto comma = text.find(',', start);
      const auto part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (part.empty() || part.size() > 100 ||
          part.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
              std::string::npos)
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("'{}' is not a category or event type name (letters, digits, _)", part));
      out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return {};
  };
  if (auto ok = split(StringParam(req, "category"), filter.categories); !ok) return std::unexpected(ok.error());
  if (auto ok = split(StringParam(req, "type"), filter.types); !ok) return std::unexpected(ok.error());
  return filter;
}

base::Result<ApiResponse> Feed(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"after", "limit", "category", "type"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  auto after = ParsePosition(req.Query("after").value_or("0"), "after");
  auto limit = LimitParam(req, 100, kMaxFeedPage);
  auto filter = FilterParams(req);
  if (!after) return std::unexpected(after.error());
  if (!limit) return std::unexpected(limit.error());
  if (!filter) return std::unexpected(filter.error());
  auto events = s.store.ReadAll(*after, *filter, *limit);
  if (!events) return std::unexpected(events.error());
  json::array items;
  for (const auto& e : *events) items.emplace_back(EventJson(e));
  // "next" continues after this page; an empty page means caught up (poll
  // again with the same "after").
  const auto next = events->empty() ? *after : events->back().position;
  return JsonOk(json::object{{"events", std::move(items)}, {"next", FormatPosition(next)}});
}

base::Result<ApiResponse> Stream(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"from_version", "limit"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  const auto stream = std::string(req.Param("stream_id"));
  if (stream.empty() || stream.size() > 200 || stream.find('-') == std::string::npos)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("'{}' is not a stream id (\"<category>-<id>\", e.g. pair-<uuid>)", stream));
  auto from = IntParam(req, "from_version");
  auto limit = LimitParam(req, 1000, kMaxFeedPage);
  if (!from) return std::unexpected(from.error());
  if (!limit) return std::unexpected(limit.error());
  if (from->value_or(1) < 1) return Fail(ErrorCode::kInvalidArgument, "from_version starts at 1");
  auto events = s.store.ReadStream(stream, from->value_or(1), events::Direction::kForward, *limit);
  if (!events) return std::unexpected(events.error());
  if (events->empty() && from->value_or(1) == 1) return Fail(ErrorCode::kNotFound, fmt::format("no stream {}", stream));
  json::array items;
  for (const auto& e : *events) items.emplace_back(EventJson(e));
  return JsonOk(json::object{{"stream_id", stream}, {"events", std::move(items)}});
}

base::Result<ApiResponse> AuditHead(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  events::AuditLog audit(s.store.pool());
  auto head = audit.Head();
  if (!head) return std::unexpected(head.error());
  return JsonOk(json::object{{"sealed", head->sealed},
                             {"head_hash", head->head_hash},
                             {"last_position", head->last_position},
                             {"unsealed", head->unsealed}});
}

base::Result<ApiResponse> AuditVerify(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  events::AuditLog audit(s.store.pool());
  auto verified = audit.Verify();
  if (!verified) return std::unexpected(verified.error());
  json::object out{{"intact", !verified->mismatch.has_value()},
                   {"checked", verified->checked},
                   {"head_hash", verified->head_hash}};
  if (const auto& m = verified->mismatch)
    out["mismatch"] = json::object{{"audit_seq", m->audit_seq},     {"global_position", m->global_position},
                                   {"event_id", m->event_id},       {"stream_id", m->stream_id},
                                   {"reason", m->reason}};
  return JsonOk(out);
}

// Server-Sent Events: every new event (after ?after= or Last-Event-ID, else
// from now) matching the filter, with the position as the SSE id so a client
// that reconnects resumes without a gap.
base::Result<ApiResponse> Live(ApiServices& s, const ApiRequest& req, const Principal& who) {
  static constexpr std::string_view kAllowed[] = {"after", "category", "type"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  auto filter = FilterParams(req);
  if (!filter) return std::unexpected(filter.error());
  // The whole log (API keys, users seen, ...) is for auditors; others follow
  // what the curation page shows.
  if (!who.HasRole("auditor")) {
    if (filter->categories.empty()) filter->categories = kCurationCategories;
    for (const auto& c : filter->categories)
      if (std::ranges::find(kCurationCategories, c) == kCurationCategories.end())
        return Problem(403, "forbidden",
                       fmt::format("the '{}' events are for auditors; without that role follow: pair, job, breed, "
                                   "service",
                                   c));
  }
  std::string from_text(req.Header("last-event-id"));
  if (from_text.empty()) from_text = StringParam(req, "after");
  events::LogPosition from;
  if (from_text.empty()) {
    auto head = s.store.Head();
    if (!head) return std::unexpected(head.error());
    from = *head;
  } else {
    auto parsed = ParsePosition(from_text, "after");
    if (!parsed) return std::unexpected(parsed.error());
    from = *parsed;
  }
  if (s.live_streams.fetch_add(1) >= s.max_live_streams) {
    --s.live_streams;
    return Problem(503, "unavailable",
                   fmt::format("{} live event streams are open, the most this server keeps; close one or retry "
                               "later (or raise api_worker_threads)",
                               s.max_live_streams))
        .WithHeader("Retry-After", "5");
  }
  return ApiResponse::EventStream([&s, from, filter = *filter, request = req](EventStreamWriter& out) {
    auto& store = s.store;
    const auto& config = s.config;
    auto& open_streams = s.live_streams;
    struct Closed {
      std::atomic<int>& n;
      ~Closed() { --n; }
    } closed{open_streams};
    std::unique_ptr<events::RedisWaker> waker;
    if (auto address = events::ParseRedisUrl(config.Get("redis_url")))
      waker = std::make_unique<events::RedisWaker>(
          *address, events::ChannelsFor(config.Get("redis_channel_prefix"), filter));
    events::Subscription subscription(store, waker.get(),
                                      {.from = from, .filter = filter, .batch_size = 200,
                                       .poll_interval = std::chrono::milliseconds(500)});
    if (!out.Comment("furrsight events from " + FormatPosition(from))) return;
    auto last_sent = std::chrono::steady_clock::now();
    auto last_checked = last_sent;
    while (out.open()) {
      if (s.authenticator && std::chrono::steady_clock::now() - last_checked >= s.live_recheck) {
        last_checked = std::chrono::steady_clock::now();
        // A revoked key or an expired token ends the stream; an identity
        // provider or database that cannot be asked right now does not.
        if (auto still = s.authenticator->Authenticate(request);
            !still && still.error().code != ErrorCode::kUnavailable) {
          out.Send("error", "", json::object{{"code", "unauthenticated"},
                                             {"detail", "the credential no longer holds: " + still.error().message +
                                                            "; sign in again and resume with Last-Event-ID"}});
          return;
        }
      }
      auto batch = subscription.Next(std::chrono::seconds(1));
      if (!batch) {
        out.Send("error", "", json::object{{"detail", batch.error().message}});
        return;
      }
      for (const auto& e : *batch)
        if (!out.Send("event", FormatPosition(e.position), EventJson(e))) return;
      const auto now = std::chrono::steady_clock::now();
      if (!batch->empty()) {
        last_sent = now;
      } else if (now - last_sent >= kKeepAlive) {
        if (!out.Comment("keep-alive")) return;
        last_sent = now;
      }
    }
  });
}

}  // namespace

void AddEventRoutes(Router& router, ApiServices& s) {
  router.Add({http::verb::get, "/api/v1/events", roles::kAuditors, false,
              "The global event feed after a checkpoint (?after=, ?category=, ?type=), in pages",
              [&s](const ApiRequest& req, const Principal&) { return Feed(s, req); }});
  router.Add({http::verb::get, "/api/v1/events/live", roles::kReaders, false,
              "New events as Server-Sent Events (filterable; resumes from Last-Event-ID)",
              [&s](const ApiRequest& req, const Principal& who) { return Live(s, req, who); }});
  router.Add({http::verb::get, "/api/v1/streams/{stream_id}", roles::kAuditors, false, "One stream's events",
              [&s](const ApiRequest& req, const Principal&) { return Stream(s, req); }});
  router.Add({http::verb::get, "/api/v1/audit/head", roles::kAuditors, false,
              "The audit hash chain's head (sealed events, head hash)",
              [&s](const ApiRequest& req, const Principal&) { return AuditHead(s, req); }});
  router.Add({http::verb::get, "/api/v1/audit/verify", roles::kAuditors, false,
              "Recompute the audit hash chain over the log; the first mismatch if any",
              [&s](const ApiRequest& req, const Principal&) { return AuditVerify(s, req); }});
}

}  // namespace furrsight::api
