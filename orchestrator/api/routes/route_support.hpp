// Helpers every route group shares: the role sets, who a principal is in the
// log (actor), the command context of a request, checked query parameters,
// and reads that let PostgreSQL build the JSON. Pure or stateless; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>
#include <pqxx/pqxx>

#include "events/store/pg_pool.hpp"
#include "orchestrator/api/http/api_request.hpp"
#include "orchestrator/api/http/api_response.hpp"
#include "orchestrator/api/http/principal.hpp"
#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::api {

// Who may call what (docs/api.md "Roles"); "admin" holds every role.
namespace roles {
inline const std::vector<std::string> kReaders{"researcher", "auditor", "operator"};
inline const std::vector<std::string> kCurators{"researcher"};
inline const std::vector<std::string> kJobWriters{"researcher", "operator"};
inline const std::vector<std::string> kAuditors{"auditor"};
inline const std::vector<std::string> kOperators{"operator"};
inline const std::vector<std::string> kAdmins{"admin"};
}  // namespace roles

// "user:<subject>" for a person signed in with OIDC, "apikey:<id>" for a key.
std::string ActorOf(const Principal& principal);
orchestrator::jobs::CommandContext CommandContextFor(const ApiRequest& request, const Principal& principal,
                                                     std::int64_t now_us);

// kInvalidArgument naming the parameter when the request has one not listed
// (a misspelt filter must not silently return everything).
base::Result<void> CheckQueryParams(const ApiRequest& request, std::span<const std::string_view> allowed);
// ?limit= in 1..max_limit, default `default_limit`.
base::Result<int> LimitParam(const ApiRequest& request, int default_limit, int max_limit);
base::Result<std::optional<std::int64_t>> IntParam(const ApiRequest& request, std::string_view name);
base::Result<std::optional<double>> NumberParam(const ApiRequest& request, std::string_view name);
base::Result<std::optional<bool>> BoolParam(const ApiRequest& request, std::string_view name);
std::string StringParam(const ApiRequest& request, std::string_view name);  // "" when absent

// Log positions as the API shows them: "<tx_id>.<global_position>".
using events::FormatPosition;
using events::ParsePosition;

// An event as the API shows it.
boost::json::object EventJson(const events::RecordedEvent& event);

// A strong ETag for a stream version ("\"7\"") and the version an If-Match
// names ("7", "\"7\"" or W/"7"); kInvalidArgument for anything else.
std::string ETagOf(std::int64_t version);
base::Result<std::int64_t> ParseIfMatch(std::string_view header);

// Runs `sql`, whose single row and column is a json value, with `params`
// bound, and parses it. The read models build their own JSON: one round trip,
// no per-column code. NULL (no row) is kNotFound with `not_found`.
template <class... Params>
base::Result<boost::json::value> QueryJson(events::PgPool& pool, std::string_view what, std::string_view not_found,
                                           std::string_view sql, const Params&... params);
base::Result<boost::json::value> ParseQueryJson(const pqxx::result& rows, std::string_view what,
                                                std::string_view not_found);

ApiResponse JsonOk(const boost::json::value& value);

template <class... Params>
base::Result<boost::json::value> QueryJson(events::PgPool& pool, std::string_view what, std::string_view not_found,
                                           std::string_view sql, const Params&... params) {
  return events::WithConnection(pool, what, [&](pqxx::connection& conn) -> base::Result<boost::json::value> {
    pqxx::read_transaction tx(conn);
    return ParseQueryJson(tx.exec_params(std::string(sql), params...), what, not_found);
  });
}

}  // namespace furrsight::api
