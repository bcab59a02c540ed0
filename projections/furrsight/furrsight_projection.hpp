// The FurrSight read model (seed 000): jobs, dog_breeds, grooming_services,
// grooming_pairs, pair_service_link — columns, types, defaults and keys as
// the seed gives them, plus the columns the system needs (versions for
// If-Match, analysis, job counters), all derived from events.
#pragma once

#include "projections/projection.hpp"

namespace furrsight::projections {

class FurrSightProjection final : public Projection {
 public:
  std::string_view name() const override { return "furrsight"; }
  // 2: timeouts, attempt start, child counters; 3: api_keys; 4: (created_at, id)
  // indexes for the API's newest-first pages of pairs and jobs; 5: api_keys.expires_at
  int version() const override { return 5; }
  events::ReadFilter filter() const override;
  std::vector<std::string> tables() const override;
  std::string schema_sql() const override;
  std::vector<PreparedStatement> statements() const override;
  void Plan(const events::RecordedEvent& event, std::vector<SqlCall>& calls) const override;
};

}  // namespace furrsight::projections
