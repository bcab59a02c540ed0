// A generated grooming dataset for export tests and benchmarks: real JPEG
// images in a blob store and the events the pipeline and researchers would
// have appended (ImageDownloaded, ImageValidated with the real pHash,
// PairProposed, PairBreedSet, PairServicesSet, PairVerified / PairRejected).
// Some pairs reuse a near-duplicate of another pair's image (re-encoded at
// another quality: another SHA-256, a pHash a few bits away), so split
// leaks can be tested. The generator knows the truth it wrote.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "events/store/event_store.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::testing {

struct GroomingDatasetOptions {
  int pairs = 40;
  std::uint32_t seed = 1;
  int near_duplicate_every = 7;  // every Nth pair's before image is a near-copy of an earlier pair's (0: none)
  int rejected_every = 5;        // every Nth pair is rejected
  int unverified_every = 9;      // every Nth pair (not rejected) stays unverified
  int width = 160, height = 120;
  std::string crawl_job_id;      // ImageDownloaded.crawl_job_id of every image ("": none)
};

struct GeneratedPair {
  std::string id, status, breed, before_sha256, after_sha256;
  std::vector<std::string> services;
  int near_duplicate_of = -1;  // index of the pair whose before image this one's is a near-copy of
};

struct GroomingDataset {
  std::vector<GeneratedPair> pairs;
  std::map<std::string, std::string> phash_of;  // sha256 -> pHash hex
  std::uint64_t image_bytes = 0;
};

base::Result<GroomingDataset> GenerateGroomingDataset(events::EventStore& store, workers::BlobStore& blobs,
                                                      const GroomingDatasetOptions& options);

}  // namespace furrsight::testing
