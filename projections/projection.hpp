// Projection: one read model built from the log — a name, a version, the
// events it needs, its tables' DDL and a handler per event.
//
// Handlers are deterministic (ARCHITECTURE.md, invariant 6): they read only
// the event and the projection's own tables — no clock, no randomness, no
// network — so a rebuild from the log gives the same rows. Times come from
// the event (recorded_at). Apply runs inside the projector's transaction with
// search_path set to the generation's schema, so SQL names tables unqualified.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pqxx/transaction_base>

#include "events/store/event.hpp"
#include "events/store/event_store.hpp"

namespace furrsight::projections {

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
  // Statements each connection prepares once (names must be unique to the projection).
  virtual void Prepare(pqxx::connection_base& conn) const = 0;
  // Applies one event. Throws on a bug or a database error (the batch rolls back).
  virtual void Apply(pqxx::transaction_base& tx, const events::RecordedEvent& event) const = 0;
};

}  // namespace furrsight::projections
