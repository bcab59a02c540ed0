// Projection: one read model built from the log — a name, a version, the
// events it needs, its tables' DDL and a handler per event.
//
// Handlers are deterministic (ARCHITECTURE.md, invariant 6): they read only
// the event and the projection's own tables — no clock, no randomness, no
// network — so a rebuild from the log gives the same rows. Times come from
// the event (recorded_at). A handler is Plan(): it turns an event into calls
// of prepared statements, which the projector runs with search_path set to
// the generation's schema, so SQL names tables unqualified.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "events/store/event.hpp"
#include "events/store/event_store.hpp"
#include "projections/pipeline_connection.hpp"

namespace furrsight::projections {

struct PreparedStatement {
  std::string name;  // unique across projections, e.g. "furrsight_PairVerified_0"
  std::string sql;   // unqualified table names
};

class Projection {
 public:
  virtual ~Projection() = default;

  virtual std::string_view name() const = 0;  // [a-z][a-z0-9_]*, e.g. "furrsight"
  // Bump when the tables or the handlers change: a rebuild is then due.
  virtual int version() const = 0;
  // The events it reads (categories and/or types).
  virtual events::ReadFilter filter() const = 0;
  // Its tables, parents before children; readers see each as a view in `public`.
  virtual std::vector<std::string> tables() const = 0;
  // CREATE TABLE/INDEX statements with unqualified names.
  virtual std::string schema_sql() const = 0;
  // The statements its handlers use, prepared once per connection.
  virtual std::vector<PreparedStatement> statements() const = 0;
  // The handler: the statement calls that apply one event, appended to `calls`
  // (none for an event it ignores). A pure function of the event; the runtime
  // runs a batch's calls in one transaction with its checkpoint.
  virtual void Plan(const events::RecordedEvent& event, std::vector<SqlCall>& calls) const = 0;
};

}  // namespace furrsight::projections
