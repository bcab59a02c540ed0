#include "projections/rebuild.hpp"

#include <algorithm>
#include <chrono>

#include <pqxx/connection>

namespace furrsight::projections {

base::Result<RebuildResult> Rebuild(const std::string& admin_url, events::EventStore& store,
                                    const Projection& projection, const RebuildOptions& options,
                                    const std::function<void(const Generation&)>& created,
                                    const std::function<void(const RebuildProgress&)>& progress,
                                    const std::atomic<bool>* stop) {
  try {
    pqxx::connection conn(admin_url);
    auto generation = CreateGeneration(conn, projection, options.into ? "snapshot" : "building", options.into);
    if (!generation) return std::unexpected(generation.error());
    if (created) created(*generation);
    Projector projector(admin_url, store, nullptr, projection, options.projector);
    const auto started = std::chrono::steady_clock::now();
    auto last_report = started;
    RebuildResult result{.generation = *generation};
    // Catch up until (almost) nothing is left: appends continue meanwhile.
    for (int pass = 0;; ++pass) {
      auto applied = projector.CatchUp(generation->generation, [&](const CatchUpProgress& pr) {
        const auto now = std::chrono::steady_clock::now();
        if (!progress || now - last_report < std::chrono::seconds(1)) return;
        last_report = now;
        const double secs = std::chrono::duration<double>(now - started).count();
        progress({.generation = generation->generation,
                  .applied = result.applied + pr.applied,
                  .remaining = pr.remaining,
                  .events_per_second = (result.applied + pr.applied) / std::max(secs, 1e-3)});
      }, stop);
      if (!applied) return std::unexpected(applied.error());
      result.applied += *applied;
      if (stop && *stop)
        return base::Fail(base::ErrorCode::kFailedPrecondition,
                          "rebuild stopped before it finished; drop the unfinished generation with "
                          "'furrsight projections drop " + std::string(projection.name()) + " " +
                              std::to_string(generation->generation) + "'");
      if (*applied == 0 || pass > 20 || options.into) break;
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!options.into && options.switch_after) {
      if (auto ok = Switch(conn, projection, generation->generation); !ok) return std::unexpected(ok.error());
      result.switched = true;
    }
    auto final_state = LoadGeneration(conn, projection.name(), generation->generation);
    if (final_state) result.generation = *final_state;
    return result;
  } catch (const pqxx::broken_connection& e) {
    return base::Fail(base::ErrorCode::kUnavailable,
                      std::string("rebuild: cannot reach PostgreSQL as the schema owner: ") + e.what());
  }
}

}  // namespace furrsight::projections
