// Rebuild: a projection built anew from the whole log into a new generation,
// then (by default) made live — what `furrsight projections rebuild` and the
// API's POST /api/v1/projections/{name}/rebuild run. Readers keep the old
// generation until the switch, which is one transaction (generations.hpp).
// Long: reports progress about once a second; stops early when `stop` is set
// (the unfinished generation stays `building`, to be dropped).
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "projections/generations.hpp"
#include "projections/projector.hpp"

namespace furrsight::projections {

struct RebuildOptions {
  ProjectorOptions projector;         // until_* for a snapshot of the past
  std::optional<std::string> into;    // a snapshot's schema (never switched)
  bool switch_after = true;
};

struct RebuildProgress {
  int generation = 0;
  std::int64_t applied = 0;    // so far
  std::int64_t remaining = 0;  // an estimate
  double events_per_second = 0;
};

struct RebuildResult {
  Generation generation;
  std::int64_t applied = 0;
  double seconds = 0;
  bool switched = false;
};

base::Result<RebuildResult> Rebuild(const std::string& admin_url, events::EventStore& store,
                                    const Projection& projection, const RebuildOptions& options,
                                    const std::function<void(const Generation&)>& created = {},
                                    const std::function<void(const RebuildProgress&)>& progress = {},
                                    const std::atomic<bool>* stop = nullptr);

}  // namespace furrsight::projections
