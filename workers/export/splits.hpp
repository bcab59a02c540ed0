// Train / validation / test splits that do not leak: pairs that share an
// image, or hold near-duplicate images (perceptual hashes within
// `near_duplicate_distance` bits), form one group, and a whole group goes to
// one split. A group's split is a pure function of the seed and the group's
// smallest pair id, so the same seed and data give the same splits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "workers/export/dataset_snapshot.hpp"

namespace furrsight::workers::exporting {



// Sets each pair's `split`; returns the number of groups.
std::size_t AssignSplits(std::vector<ExportPair>& pairs, const SplitOptions& options);

}  // namespace furrsight::workers::exporting
