#include "projections/generations.hpp"

#include <fmt/format.h>
#include <pqxx/pqxx>

namespace furrsight::projections {
namespace {

using base::ErrorCode;
using base::Fail;

inline constexpr std::string_view kGenerationColumns = R"~(
  name, generation, version, schema_name, state, checkpoint_tx::text AS checkpoint_tx_text, checkpoint_position,
  events_applied, coalesce(to_char(last_event_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), ''),
  until_position, until_time::text AS until_time_text)~";

inline constexpr std::string_view kInsertGeneration = R"~(
INSERT INTO projection_generations (name, generation, version, schema_name, state)
VALUES ($1, (SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = $1), $2,
        coalesce($3, $1 || '_g' || (SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = $1)),
        $4)
RETURNING generation)~";

// Serialises generation changes of one projection across processes.
inline constexpr std::string_view kLockName = "SELECT pg_advisory_xact_lock(hashtext('furrsight.generations.' || $1))";

Generation ParseGeneration(const pqxx::row& r) {
  Generation g;
  g.name = r[0].c_str();
  g.generation = r[1].as<int>();
  g.version = r[2].as<int>();
  g.schema = r[3].c_str();
  g.state = r[4].c_str();
  g.checkpoint = events::LogPosition{std::stoull(r[5].c_str()), r[6].as<std::int64_t>()};
  g.events_applied = r[7].as<std::int64_t>();
  g.last_event_at = r[8].c_str();
  if (!r[9].is_null()) g.until_position = r[9].as<std::int64_t>();
  if (!r[10].is_null()) g.until_time = r[10].c_str();
  return g;
}

template <class Fn>
auto Guard(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const pqxx::broken_connection& e) {
    return Fail(ErrorCode::kUnavailable, fmt::format("{}: lost the connection to PostgreSQL: {}", what, e.what()));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("{}: {}", what, e.what()));
  }
}

void PointViews(pqxx::work& tx, const Projection& projection, const std::string& schema) {
  // Children first when dropping, parents first when creating.
  auto tables = projection.tables();
  for (auto it = tables.rbegin(); it != tables.rend(); ++it)
    tx.exec("DROP VIEW IF EXISTS public." + tx.quote_name(*it));
  for (const auto& t : tables) {
    tx.exec(fmt::format("CREATE VIEW public.{0} AS SELECT * FROM {1}.{0}", tx.quote_name(t), tx.quote_name(schema)));
    tx.exec(fmt::format("GRANT SELECT ON public.{} TO furrsight_app", tx.quote_name(t)));
  }
}

}  // namespace

base::Result<Generation> LoadGeneration(pqxx::connection& conn, std::string_view name, int generation) {
  return Guard("load generation", [&]() -> base::Result<Generation> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_params(
        fmt::format("SELECT {} FROM projection_generations WHERE name = $1 AND generation = $2", kGenerationColumns),
        std::string(name), generation);
    if (rows.empty())
      return Fail(ErrorCode::kNotFound, fmt::format("projection {} has no generation {} (see furrsight projections "
                                                    "status)",
                                                    name, generation));
    return ParseGeneration(rows[0]);
  });
}

base::Result<std::optional<Generation>> LoadLive(pqxx::connection& conn, std::string_view name) {
  return Guard("load live generation", [&]() -> base::Result<std::optional<Generation>> {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_params(
        fmt::format("SELECT {} FROM projection_generations WHERE name = $1 AND state = 'live'", kGenerationColumns),
        std::string(name));
    if (rows.empty()) return std::optional<Generation>();
    return std::optional<Generation>(ParseGeneration(rows[0]));
  });
}

base::Result<std::vector<Generation>> ListGenerations(pqxx::connection& conn) {
  return Guard("list generations", [&]() -> base::Result<std::vector<Generation>> {
    pqxx::nontransaction tx(conn);
    std::vector<Generation> out;
    for (const auto& r :
         tx.exec(fmt::format("SELECT {} FROM projection_generations ORDER BY name, generation", kGenerationColumns)))
      out.push_back(ParseGeneration(r));
    return out;
  });
}

base::Result<Generation> CreateGeneration(pqxx::connection& conn, const Projection& projection, std::string_view state,
                                          const std::optional<std::string>& schema) {
  auto created = Guard("create generation", [&]() -> base::Result<int> {
    pqxx::work tx(conn);
    const std::string name(projection.name());
    tx.exec_params(std::string(kLockName), name);
    std::optional<std::string> schema_arg = schema;
    auto row = tx.exec_params(std::string(kInsertGeneration), name, projection.version(), schema_arg,
                              std::string(state))[0];
    int generation = row[0].as<int>();
    auto schema_name = tx.exec_params("SELECT schema_name FROM projection_generations WHERE name = $1 AND generation = $2",
                                      name, generation)[0][0].as<std::string>();
    tx.exec("CREATE SCHEMA " + tx.quote_name(schema_name));
    tx.exec("SET LOCAL search_path TO " + tx.quote_name(schema_name));
    tx.exec(projection.schema_sql());
    tx.exec("GRANT USAGE ON SCHEMA " + tx.quote_name(schema_name) + " TO furrsight_app");
    tx.exec("GRANT SELECT ON ALL TABLES IN SCHEMA " + tx.quote_name(schema_name) + " TO furrsight_app");
    tx.commit();
    return generation;
  });
  if (!created) return std::unexpected(created.error());
  return LoadGeneration(conn, projection.name(), *created);
}

base::Result<Generation> EnsureLive(pqxx::connection& conn, const Projection& projection) {
  auto live = LoadLive(conn, projection.name());
  if (!live) return std::unexpected(live.error());
  if (*live) return **live;
  auto first = CreateGeneration(conn, projection, "building");
  if (!first) return std::unexpected(first.error());
  if (auto ok = Switch(conn, projection, first->generation); !ok) {
    // Another process made one live first: use that.
    auto again = LoadLive(conn, projection.name());
    if (again && *again) {
      (void)DropGeneration(conn, projection.name(), first->generation);
      return **again;
    }
    return std::unexpected(ok.error());
  }
  return LoadGeneration(conn, projection.name(), first->generation);
}

base::Result<void> Switch(pqxx::connection& conn, const Projection& projection, int generation) {
  return Guard("switch generation", [&]() -> base::Result<void> {
    pqxx::work tx(conn);
    const std::string name(projection.name());
    tx.exec_params(std::string(kLockName), name);
    auto target = tx.exec_params("SELECT schema_name, state FROM projection_generations WHERE name = $1 AND generation = $2",
                                 name, generation);
    if (target.empty())
      return Fail(ErrorCode::kNotFound, fmt::format("projection {} has no generation {}", name, generation));
    if (std::string_view(target[0][1].c_str()) == "live") return {};
    if (std::string_view(target[0][1].c_str()) == "snapshot")
      return Fail(ErrorCode::kFailedPrecondition, "a snapshot (--until) generation cannot go live");
    tx.exec_params("UPDATE projection_generations SET state = 'retired', updated_at = now() WHERE name = $1 AND state = 'live'",
                   name);
    tx.exec_params("UPDATE projection_generations SET state = 'live', updated_at = now() WHERE name = $1 AND generation = $2",
                   name, generation);
    PointViews(tx, projection, target[0][0].c_str());
    tx.commit();
    return {};
  });
}

base::Result<void> DropGeneration(pqxx::connection& conn, std::string_view name, int generation) {
  return Guard("drop generation", [&]() -> base::Result<void> {
    pqxx::work tx(conn);
    tx.exec_params(std::string(kLockName), std::string(name));
    auto row = tx.exec_params("SELECT schema_name, state FROM projection_generations WHERE name = $1 AND generation = $2",
                              std::string(name), generation);
    if (row.empty()) return Fail(ErrorCode::kNotFound, fmt::format("projection {} has no generation {}", name, generation));
    if (std::string_view(row[0][1].c_str()) == "live")
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("generation {} of {} is live: switch to another one before dropping it", generation, name));
    tx.exec("DROP SCHEMA " + tx.quote_name(row[0][0].c_str()) + " CASCADE");
    tx.exec_params("DELETE FROM projection_generations WHERE name = $1 AND generation = $2", std::string(name), generation);
    tx.commit();
    return {};
  });
}

}  // namespace furrsight::projections
