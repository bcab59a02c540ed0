// Template part of pg_pool.hpp.
#pragma once

#include <fmt/format.h>
#include <pqxx/except>

#include "events/base/config.hpp"

namespace furrsight::events {

template <class Fn>
auto WithConnection(PgPool& pool, std::string_view what, Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  auto lease = pool.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    return fn(**lease);
  } catch (const pqxx::broken_connection& e) {
    lease->Discard();
    return base::Fail(base::ErrorCode::kUnavailable,
                      fmt::format("{}: lost the connection to PostgreSQL ({}); retry when it is back", what, e.what()));
  } catch (const pqxx::sql_error& e) {
    if (std::string_view(e.sqlstate()).starts_with("08")) lease->Discard();
    return base::Fail(base::ErrorCode::kInternal, fmt::format("{}: {} [{}]", what, e.what(), e.sqlstate()));
  } catch (const pqxx::failure& e) {
    lease->Discard();
    return base::Fail(base::ErrorCode::kUnavailable, fmt::format("{}: {}", what, e.what()));
  }
}

}  // namespace furrsight::events
