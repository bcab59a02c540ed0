// /api/v1/pairs: the researchers' queue and the curation commands.
//
// Reads of one pair fold its stream (read-your-writes, ?as_of=); the list
// comes from the grooming_pairs read model. A command takes the version the
// caller last saw (If-Match, required) and answers the new state with its
// ETag; it returns once the read model shows the change (at most
// kReadModelWait), so the very next list read shows it.
#include <chrono>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/log.hpp"
#include "orchestrator/api/http/json_body.hpp"
#include "orchestrator/api/http/problem.hpp"
#include "orchestrator/api/read_cache.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"
#include "orchestrator/queries/pair_queries.hpp"
#include "projections/stream_state.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
namespace curation = orchestrator::curation;
using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kPairVersion = R"~(SELECT version FROM grooming_pairs WHERE id = $1::uuid)~";

// The version of what the pair list reads: the live generation of the
// FurrSight read model and how many events it has applied.
inline constexpr std::string_view kListVersion = R"~(
SELECT generation || '.' || events_applied FROM projection_generations WHERE name = 'furrsight' AND state = 'live')~";

// A cached body, or the read's own answer (cached when it succeeded).
template <class Read>
base::Result<ApiResponse> Cached(ApiServices& s, std::string_view kind, const std::string& version,
                                 const std::string& request, Read&& read) {
  if (s.cache == nullptr || version.empty()) return read();
  const auto key = s.cache->Key(kind, version, request);
  if (auto body = s.cache->Get(key)) {
    auto response = ApiResponse::Text(200, "application/json", std::move(*body));
    response.WithHeader("X-FurrSight-Cache", "hit");
    if (kind == "pair") response.WithHeader("ETag", ETagOf(std::stoll(version)));
    return response;
  }
  auto response = read();
  // One pair: only the body of exactly this version (a command may have
  // committed between reading the version and folding the stream).
  const bool same_version = kind != "pair" || (response && response->Header("ETag") == ETagOf(std::stoll(version)));
  if (response && response->status == 200 && same_version) s.cache->Put(key, response->body);
  return response;
}

std::string ListVersion(ApiServices& s) {
  auto version = events::WithConnection(s.pool, "reading the read model's position",
                                        [](pqxx::connection& conn) -> base::Result<std::string> {
                                          pqxx::read_transaction tx(conn);
                                          const auto rows = tx.exec(std::string(kListVersion));
                                          return rows.empty() ? std::string() : std::string(rows[0][0].c_str());
                                        });
  return version ? *version : std::string();
}

ApiResponse PairResponse(const curation::PairState& state, unsigned status = 200) {
  return ApiResponse::Json(status, state.ToJson()).WithHeader("ETag", ETagOf(state.version));
}

// Polls the read model until it holds `version` of the pair (or the wait ends).
bool AwaitReadModel(events::PgPool& pool, const std::string& pair_id, std::int64_t version,
                    std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    auto seen = events::WithConnection(pool, "reading a pair's version", [&](pqxx::connection& conn)
                                                                                -> base::Result<std::int64_t> {
      pqxx::read_transaction tx(conn);
      const auto rows = tx.exec_params(std::string(kPairVersion), pair_id);
      return rows.empty() ? 0 : rows[0][0].as<std::int64_t>();
    });
    if (seen && *seen >= version) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

base::Result<ApiResponse> ListPairs(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"status", "breed", "service", "source_domain", "analysed",
                                                  "min_confidence", "max_confidence", "text", "limit", "cursor",
                                                  "order"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  orchestrator::queries::PairFilter f;
  f.status = StringParam(req, "status");
  f.breed = StringParam(req, "breed");
  f.service = StringParam(req, "service");
  f.source_domain = StringParam(req, "source_domain");
  f.text = StringParam(req, "text");
  f.cursor = StringParam(req, "cursor");
  const auto order = StringParam(req, "order");
  if (!order.empty() && order != "newest" && order != "oldest")
    return Fail(ErrorCode::kInvalidArgument, fmt::format("order '{}' is not newest or oldest", order));
  f.oldest_first = order == "oldest";
  auto analysed = BoolParam(req, "analysed");
  auto min_c = NumberParam(req, "min_confidence");
  auto max_c = NumberParam(req, "max_confidence");
  auto limit = LimitParam(req, orchestrator::queries::kDefaultPageSize, orchestrator::queries::kMaxPageSize);
  if (!analysed) return std::unexpected(analysed.error());
  if (!min_c) return std::unexpected(min_c.error());
  if (!max_c) return std::unexpected(max_c.error());
  if (!limit) return std::unexpected(limit.error());
  f.analysed = *analysed;
  f.min_confidence = *min_c;
  f.max_confidence = *max_c;
  f.limit = *limit;
  const auto version = s.cache ? ListVersion(s) : std::string();
  return Cached(s, "pairs", version, req.target, [&]() -> base::Result<ApiResponse> {
    auto page = orchestrator::queries::ListPairs(s.pool, f);
    if (!page) return std::unexpected(page.error());
    return JsonOk(json::object{{"items", std::move(page->items)},
                               {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                                         : json::value(page->next_cursor)}});
  });
}

base::Result<ApiResponse> GetPair(ApiServices& s, const ApiRequest& req) {
  static constexpr std::string_view kAllowed[] = {"as_of"};
  if (auto ok = CheckQueryParams(req, kAllowed); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  projections::AsOf as_of;
  if (auto text = req.Query("as_of")) {
    auto parsed = projections::ParseAsOf(std::string(*text));
    if (!parsed) return std::unexpected(parsed.error());
    as_of = *parsed;
  }
  auto load = [&]() -> base::Result<ApiResponse> {
    auto state = s.curation.Load(*id, as_of);
    if (!state) return std::unexpected(state.error());
    return PairResponse(*state);
  };
  if (s.cache == nullptr || as_of.position || as_of.time_us) return load();
  auto version = s.store.StreamVersion("pair-" + *id);
  if (!version) return std::unexpected(version.error());
  if (*version == 0) return Fail(ErrorCode::kNotFound, fmt::format("no pair {}", *id));
  return Cached(s, "pair", std::to_string(*version), *id, load);
}

base::Result<ApiResponse> PairHistory(ApiServices& s, const ApiRequest& req) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  auto events = s.store.ReadStream("pair-" + *id);
  if (!events) return std::unexpected(events.error());
  if (events->empty()) return Fail(ErrorCode::kNotFound, fmt::format("no pair {}", *id));
  json::array items;
  for (const auto& e : *events) items.emplace_back(EventJson(e));
  return JsonOk(json::object{{"pair_id", *id}, {"version", events->back().stream_version}, {"events", items}});
}

// Parses a curation body into its command.
using CommandParser = base::Result<curation::PairCommand> (*)(const json::object&);

base::Result<curation::PairCommand> VerifyCommand(const json::object& body) {
  auto note = OptionalString(body, "note");
  if (!note) return std::unexpected(note.error());
  return curation::VerifyPair{note->value_or("")};
}
base::Result<curation::PairCommand> RejectCommand(const json::object& body) {
  auto reason = RequiredString(body, "reason");
  if (!reason) return std::unexpected(reason.error());
  return curation::RejectPair{*reason};
}
base::Result<curation::PairCommand> BreedCommand(const json::object& body) {
  auto breed = RequiredString(body, "breed");
  if (!breed) return std::unexpected(breed.error());
  return curation::SetPairBreed{*breed};
}
base::Result<curation::PairCommand> ServicesCommand(const json::object& body) {
  auto services = OptionalStringArray(body, "services");
  if (!services) return std::unexpected(services.error());
  if (!*services) return Fail(ErrorCode::kInvalidArgument, "field 'services' is required (an array of names)");
  return curation::SetPairServices{**services};
}
base::Result<curation::PairCommand> NoteCommand(const json::object& body) {
  auto note = RequiredString(body, "note");
  if (!note) return std::unexpected(note.error());
  return curation::AddPairNote{*note};
}

base::Result<ApiResponse> Curate(ApiServices& s, const ApiRequest& req, const Principal& who,
                                 std::span<const std::string_view> fields, CommandParser parse) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto id = ParseUuidParam(req.Param("id"));
  if (!id) return std::unexpected(id.error());
  const auto if_match = req.Header("if-match");
  if (if_match.empty())
    return Problem(428, "precondition_required",
                   "send If-Match with the pair's ETag from your last read (GET /api/v1/pairs/{id}), so a change "
                   "someone made since is never overwritten");
  auto version = ParseIfMatch(if_match);
  if (!version) return std::unexpected(version.error());
  auto body = ParseJsonObject(req.body.empty() ? std::string_view("{}") : std::string_view(req.body), fields);
  if (!body) return std::unexpected(body.error());
  auto command = parse(*body);
  if (!command) return std::unexpected(command.error());
  auto state = s.curation.Execute(*id, *version, *command, CommandContextFor(req, who, s.now_us()));
  if (!state) return std::unexpected(state.error());
  auto response = PairResponse(*state);
  if (!AwaitReadModel(s.pool, *id, state->version, s.read_model_wait)) {
    base::log::Warn("the pair list lags the log", {{"pair", *id}, {"version", state->version}});
    response.WithHeader("X-FurrSight-Read-Model", "lagging");
  }
  return response;
}

}  // namespace

void AddPairRoutes(Router& router, ApiServices& s) {
  router.Add({http::verb::get, "/api/v1/pairs", roles::kReaders, false,
              "List pairs: filters, keyset pages (newest first)",
              [&s](const ApiRequest& req, const Principal&) { return ListPairs(s, req); }});
  router.Add({http::verb::get, "/api/v1/pairs/{id}", roles::kReaders, false,
              "One pair (images, breed, services, latest analysis, notes); ?as_of= a time or log position; ETag",
              [&s](const ApiRequest& req, const Principal&) { return GetPair(s, req); }});
  router.Add({http::verb::get, "/api/v1/pairs/{id}/events", roles::kReaders, false, "A pair's event history",
              [&s](const ApiRequest& req, const Principal&) { return PairHistory(s, req); }});

  struct CurationRoute {
    http::verb method;
    std::string_view suffix, summary, field;
    CommandParser parse;
  };
  static constexpr CurationRoute kCommands[] = {
      {http::verb::post, "verify", "Verify a pair (optional note); If-Match required", "note", VerifyCommand},
      {http::verb::post, "reject", "Reject a pair with a reason; If-Match required", "reason", RejectCommand},
      {http::verb::put, "breed", "Set a pair's breed (new breeds are registered); If-Match required", "breed",
       BreedCommand},
      {http::verb::put, "services", "Set a pair's grooming services (from the catalog); If-Match required",
       "services", ServicesCommand},
      {http::verb::post, "notes", "Add a note to a pair; If-Match required", "note", NoteCommand},
  };
  for (const auto& c : kCommands) {
    router.Add({c.method, fmt::format("/api/v1/pairs/{{id}}/{}", c.suffix), roles::kCurators, false,
                std::string(c.summary), [&s, &c](const ApiRequest& req, const Principal& who) {
                  const std::string_view fields[] = {c.field};
                  return Curate(s, req, who, fields, c.parse);
                }});
  }
}

}  // namespace furrsight::api
