// The dataset as of one log position: every pair folded from its stream
// (the curation rules' Evolve) with the images it shows, filtered as the
// export asks. Read straight from the log, not from the read models, so the
// same position always gives the same snapshot — whatever happened since,
// and however far the projectors are behind.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "events/store/event_store.hpp"
#include "orchestrator/curation/pair_curation.hpp"
#include "orchestrator/jobs/export_payload.hpp"

namespace furrsight::workers::exporting {

// The payload's parts (orchestrator/jobs/export_payload.hpp).
using orchestrator::jobs::ExportFilters;
using orchestrator::jobs::ResizeOptions;
using orchestrator::jobs::SplitOptions;

struct ExportImage {
  std::string sha256, storage_key, format, content_type, url, crawl_job_id;
  int width = 0, height = 0;
  std::uint64_t file_size = 0;
  std::optional<std::uint64_t> phash;  // from ImageValidated
};

struct ExportPair {
  orchestrator::curation::PairState state;
  std::int64_t created_us = 0;  // recorded_at of PairProposed
  ExportImage before, after;
  std::string project_id;       // of the crawl that found the before image; "" when unknown
  std::string split;            // train | validation | test (AssignSplits)
};



struct Snapshot {
  events::LogPosition position;
  std::int64_t position_time_us = 0;  // recorded_at of the last event read (0: none)
  std::int64_t events_read = 0;
  std::int64_t pairs_seen = 0;        // before filtering
  std::vector<ExportPair> pairs;      // the selected pairs, by pair id
};

// Reads events up to `as_of` (inclusive, in log order), which must be
// readable already (at or before the store's head). `progress` gets the
// events read so far every batch.
base::Result<Snapshot> ReadSnapshot(events::EventStore& store, const events::LogPosition& as_of,
                                    const ExportFilters& filters,
                                    const std::function<void(std::int64_t events_read)>& progress = {});

}  // namespace furrsight::workers::exporting
