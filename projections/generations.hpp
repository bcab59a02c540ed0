// Generations: the builds of a projection and which one readers see.
//
// A generation is one build of a projection into a schema of its own,
// "<name>_g<generation>", with its checkpoint in projection_generations.
// Exactly one generation per projection is `live`: the views in `public`
// named after its tables point at it. Switch() re-points them in one
// transaction, so a reader sees the old tables or the new ones, never a
// half-built set. Functions take a connection as the schema owner
// (admin_database_url); not thread-safe per connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "events/base/error.hpp"
#include "events/store/event.hpp"
#include "projections/projection.hpp"

namespace furrsight::projections {

struct Generation {
  std::string name;
  int generation = 0;
  int version = 0;
  std::string schema;
  std::string state;  // building | live | retired | snapshot
  events::LogPosition checkpoint;
  std::int64_t events_applied = 0;
  std::string last_event_at;  // ISO 8601, "" before the first event
  std::optional<std::int64_t> until_position;
  std::optional<std::string> until_time;
};

// The live generation; creates generation 1 (tables, views) when there is none.
base::Result<Generation> EnsureLive(pqxx::connection& conn, const Projection& projection);
// A new generation in state `building` (or `snapshot`, into `schema` when given).
base::Result<Generation> CreateGeneration(pqxx::connection& conn, const Projection& projection,
                                          std::string_view state = "building",
                                          const std::optional<std::string>& schema = std::nullopt);
base::Result<Generation> LoadGeneration(pqxx::connection& conn, std::string_view name, int generation);
base::Result<std::optional<Generation>> LoadLive(pqxx::connection& conn, std::string_view name);
base::Result<std::vector<Generation>> ListGenerations(pqxx::connection& conn);
// Makes `generation` live and the previous live one retired; re-points the views.
base::Result<void> Switch(pqxx::connection& conn, const Projection& projection, int generation);
// Drops a retired, building or snapshot generation's schema and row.
base::Result<void> DropGeneration(pqxx::connection& conn, std::string_view name, int generation);

}  // namespace furrsight::projections
