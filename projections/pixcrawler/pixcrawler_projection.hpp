// The PixCrawler read model (seeds 002-004): profiles, projects, crawl_jobs,
// images, validation_jobs, export_jobs and activity_logs — columns, types,
// defaults, foreign keys (with their cascades) and named indexes as the seeds
// give them — plus job_chunks (seed 003's JobChunk), which the crawl jobs'
// chunk counters aggregate. Every row and counter is derived from events:
// the mapping, column by column, is docs/read-models.md.
//
// It reads the whole log (every event with a "user:<uuid>" actor becomes an
// activity_logs row). Stateless; Plan() is a pure function of the event.
#pragma once

#include "projections/projection.hpp"

namespace furrsight::projections {

class PixCrawlerProjection final : public Projection {
 public:
  std::string_view name() const override { return "pixcrawler"; }
  int version() const override { return 1; }
  events::ReadFilter filter() const override;
  std::vector<std::string> tables() const override;
  std::string schema_sql() const override;
  std::vector<PreparedStatement> statements() const override;
  void Plan(const events::RecordedEvent& event, std::vector<SqlCall>& calls) const override;
};

}  // namespace furrsight::projections
