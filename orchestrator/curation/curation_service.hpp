// CurationService: the researchers' commands on pairs and the catalog,
// against the event store. Loads pair-{id}, decides (pair_curation), checks
// names against the catalog streams, and appends with the pair's version as
// the expected version — so two researchers never silently overwrite each
// other: the second gets kConflict with the version it should reload.
//
// Catalog rules: a breed may be new (the vocabulary of breeds is open: the
// command registers it, BreedRegistered, in the same append); a service must
// already exist — services are added by admins (AddService). A name whose
// slug is on record takes the recorded spelling ("shih-tzu" -> "Shih Tzu").
//
// Event ids derive from the command's causation id: a re-sent command is
// idempotent. Thread-safe (holds only the store).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "events/store/event_store.hpp"
#include "orchestrator/curation/pair_curation.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "projections/stream_state.hpp"

namespace furrsight::orchestrator::curation {

using jobs::CommandContext;

class CurationService {
 public:
  explicit CurationService(events::EventStore& store) : store_(store) {}

  // The pair now, or as of a past moment (`as_of`: the events recorded up to
  // a time and/or a log position). kNotFound when it does not exist (then).
  base::Result<PairState> Load(const std::string& pair_id, const projections::AsOf& as_of = {});

  // Decides and appends. `expected_version`: the version the caller saw
  // (If-Match); nullopt: whatever it is now. Returns the state after.
  // kInvalidArgument (bad input, unknown service), kNotFound, kConflict.
  base::Result<PairState> Execute(const std::string& pair_id, std::optional<std::int64_t> expected_version,
                                  const PairCommand& command, const CommandContext& context);

  // An admin adds a grooming service. kConflict when its slug exists.
  base::Result<std::string> AddService(const std::string& name, const std::string& description,
                                       const CommandContext& context);

 private:
  // The display name on record for a catalog slug, or "" when none.
  base::Result<std::string> NameOnRecord(std::string_view kind, const std::string& slug);

  events::EventStore& store_;
};

}  // namespace furrsight::orchestrator::curation
