#include "orchestrator/api/http/router.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>

#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "events/base/log.hpp"
#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "orchestrator/api/http/problem.hpp"

namespace furrsight::api {
namespace {

constexpr std::size_t kMaxRequestIdLength = 128;

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    std::size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// "{name...}" as the last segment: the rest of the path, one or more segments.
bool IsRestParam(const std::string& segment) { return IsParam(segment) && segment.ends_with("...}"); }

std::string ParamName(const std::string& segment) {
  return segment.substr(1, segment.size() - (IsRestParam(segment) ? 5 : 2));
}

// A path segment a parameter may take, judged decoded ("%2e%2e" is ".."):
// not empty, not "." or "..", no '/' or NUL inside. So no parameter value
// can climb out of a directory, whatever the handler does with it.
bool SafeSegment(const std::string& raw) {
  const std::string d = PercentDecode(raw, false);
  return !d.empty() && d != "." && d != ".." && d.find('/') == std::string::npos && d.find('\0') == std::string::npos;
}

// How well `path` matches `pattern`: empty if not at all; else one flag per
// segment, true for a literal (so a literal beats a parameter). `safe[i]`:
// SafeSegment(path[i]), judged once per request.
std::vector<bool> MatchScore(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
                             const std::vector<bool>& safe) {
  const bool rest = !pattern.empty() && IsRestParam(pattern.back());
  if (rest ? path.size() < pattern.size() : pattern.size() != path.size()) return {};
  std::vector<bool> score;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (rest && i + 1 == pattern.size()) {
      for (std::size_t j = i; j < path.size(); ++j)
        if (!safe[j]) return {};
      score.push_back(false);
    } else if (IsParam(pattern[i])) {
      if (!safe[i]) return {};
      score.push_back(false);
    } else if (pattern[i] == path[i]) {
      score.push_back(true);
    } else {
      return {};
    }
  }
  return score;
}

std::string_view MethodName(boost::beast::http::verb verb) {
  auto name = boost::beast::http::to_string(verb);
  return {name.data(), name.size()};
}

// 400 for a decoded path parameter or query name or value that is not
// UTF-8 or holds a NUL byte: no handler has to think about either, and
// PostgreSQL (which refuses the first and cuts at the second) never sees them.
std::optional<ApiResponse> BadTextProblem(const ApiRequest& request) {
  for (const auto& [name, value] : request.path_params)
    if (!base::IsStorableText(value))
      return Problem(400, "invalid_argument",
                     fmt::format("path parameter {} is not valid UTF-8 text (or holds a NUL byte); "
                                 "percent-encode its UTF-8 bytes", name));
  for (const auto& [name, value] : request.query)
    if (!base::IsStorableText(name) || !base::IsStorableText(value))
      return Problem(400, "invalid_argument",
                     fmt::format("query parameter {} is not valid UTF-8 text (or holds a NUL byte); "
                                 "percent-encode its UTF-8 bytes",
                                 base::IsStorableText(name) ? name : std::string("name")));
  return std::nullopt;
}

}  // namespace

std::string RequestIdFor(std::string_view incoming) {
  bool ok = !incoming.empty() && incoming.size() <= kMaxRequestIdLength;
  for (char c : incoming)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '_' || c == '-');
  return ok ? std::string(incoming) : base::NewUuid();
}

Router::Router(Authenticator& authenticator) : authenticator_(authenticator) {}

void Router::Add(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/')
    throw std::logic_error("route pattern must start with '/': " + route.pattern);
  if (!route.handler) throw std::logic_error("route has no handler: " + route.pattern);
  // Two patterns that differ only in parameter names match the same paths.
  auto shape = [](const std::vector<std::string>& segments) {
    std::string out;
    for (const auto& s : segments) out += "/" + (IsRestParam(s) ? std::string("{...}") : IsParam(s) ? std::string("{}") : s);
    return out;
  };
  std::vector<std::string> segments = SplitPath(route.pattern);
  for (std::size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].method == route.method && shape(segments_[i]) == shape(segments))
      throw std::logic_error(fmt::format("duplicate route {} {} (same paths as {})", MethodName(route.method),
                                         route.pattern, routes_[i].pattern));
  segments_.push_back(std::move(segments));
  routes_.push_back(std::move(route));
}

ApiResponse Router::Handle(ApiRequest& request) const {
  if (request.request_id.empty()) request.request_id = RequestIdFor(request.Header("x-request-id"));
  ApiResponse response = Dispatch(request);
  StampProblemRequestId(response, request.request_id);
  response.headers.emplace_back("X-Request-Id", request.request_id);
  return response;
}

ApiResponse Router::Dispatch(ApiRequest& request) const {
  request.route_pattern.clear();
  request.path_params.clear();
  std::vector<std::string> path = SplitPath(request.path);
  std::vector<bool> safe(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) safe[i] = SafeSegment(path[i]);
  const Route* best = nullptr;
  const std::vector<std::string>* best_segments = nullptr;
  std::vector<bool> best_score;
  std::vector<std::string> allowed;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    std::vector<bool> score = MatchScore(segments_[i], path, safe);
    if (score.empty()) continue;
    std::string method(MethodName(routes_[i].method));
    if (std::find(allowed.begin(), allowed.end(), method) == allowed.end()) allowed.push_back(method);
    if (routes_[i].method != request.method) continue;
    if (best == nullptr || score > best_score) {
      best = &routes_[i];
      best_segments = &segments_[i];
      best_score = std::move(score);
    }
  }
  if (best == nullptr) {
    if (allowed.empty())
      return Problem(404, "not_found", fmt::format("no API resource at {}", request.path.substr(0, 200)));
    std::sort(allowed.begin(), allowed.end());
    std::string allow = fmt::format("{}", fmt::join(allowed, ", "));
    return Problem(405, "method_not_allowed",
                   fmt::format("{} is not allowed here; allowed: {}", MethodName(request.method), allow))
        .WithHeader("Allow", allow);
  }

  request.route_pattern = best->pattern;
  for (std::size_t i = 0; i < best_segments->size(); ++i) {
    const std::string& segment = (*best_segments)[i];
    if (IsRestParam(segment)) {
      std::string rest;
      for (std::size_t j = i; j < path.size(); ++j) rest += (j == i ? "" : "/") + PercentDecode(path[j], false);
      request.path_params[ParamName(segment)] = std::move(rest);
    } else if (IsParam(segment)) {
      request.path_params[ParamName(segment)] = PercentDecode(path[i], false);
    }
  }

  try {
    Principal principal;
    if (!best->public_route) {
      base::Result<Principal> who = authenticator_.Authenticate(request);
      if (!who) {
        const base::Error& error = who.error();
        switch (error.code) {
          case base::ErrorCode::kInvalidArgument:
          case base::ErrorCode::kNotFound:
          case base::ErrorCode::kFailedPrecondition:
            return Problem(401, "unauthenticated", error.message).WithHeader("WWW-Authenticate", "Bearer");
          default: return ProblemFromError(error);
        }
      }
      principal = std::move(*who);
      if (!best->roles.empty()) {
        bool allowed_role = false;
        for (const std::string& role : best->roles) allowed_role = allowed_role || principal.HasRole(role);
        if (!allowed_role)
          return Problem(403, "forbidden",
                         fmt::format("this needs one of the roles: {}", fmt::join(best->roles, ", ")));
      }
    }
    if (std::optional<ApiResponse> bad = BadTextProblem(request)) return std::move(*bad);
    base::Result<ApiResponse> result = best->handler(request, principal);
    if (!result) return ProblemFromError(result.error());
    return std::move(*result);
  } catch (const std::exception& e) {
    base::log::Error("api: handler threw", {{"route", best->pattern}, {"request_id", request.request_id},
                                            {"what", e.what()}});
  } catch (...) {
    base::log::Error("api: handler threw a non-exception", {{"route", best->pattern},
                                                            {"request_id", request.request_id}});
  }
  return Problem(500, "internal", "the server failed to handle the request; it has been logged");
}

}  // namespace furrsight::api
