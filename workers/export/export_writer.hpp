// Writes a snapshot as one of the export formats (docs/export.md) into a
// local file, streaming every image from the blob store into the archive:
// memory holds the snapshot and the manifest (~9 KB per pair measured), never
// the archive or more than one image.
//
//   zip, tar     <root>/README.md (the dataset card), <root>/manifest.jsonl,
//                <root>/manifest.csv, <root>/<split>/<key>.before.<ext>, .after.<ext>
//   webdataset   a tar of <root>/<split>/<split>-NNNNNN.tar shards, each holding
//                <key>.before.<ext>, <key>.after.<ext>, <key>.json; card and manifest
//   imagefolder  a tar of Hugging Face's imagefolder layout: <root>/<split>/<key>_before.<ext>,
//                <root>/<split>/metadata.jsonl (before_file_name, after_file_name, labels); card
//   csv, jsonl   the manifest alone (images by their API URLs); the card is returned beside it
//
// The same snapshot, options and blobs give byte-identical output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "workers/export/dataset_snapshot.hpp"
#include "workers/export/splits.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers::exporting {


struct ExportOptions {
  std::string format = "zip";  // zip | tar | csv | jsonl | webdataset | imagefolder
  std::optional<ResizeOptions> resize;
  int shard_size = 1000;       // webdataset: pairs per shard
  std::string root = "furrsight-grooming";
};


struct ExportProgress {
  std::int64_t pairs_done = 0, pairs_total = 0, images_done = 0, images_total = 0;
  std::uint64_t bytes = 0;
};

struct ExportOutput {
  std::filesystem::path file;  // what to upload
  std::string content_type;    // application/zip, application/x-tar, text/csv, application/x-ndjson
  std::string extension;       // zip, tar, csv, jsonl
  std::string card;            // the dataset card (README.md), also inside archives
  std::string manifest_sha256; // of manifest.jsonl (csv: of manifest.csv)
  ExportProgress totals;
  std::map<std::string, std::int64_t> split_counts;
};

struct ExportRequest {
  const Snapshot& snapshot;  // pairs with splits assigned
  const ExportFilters& filters;
  const SplitOptions& splits;
  const ExportOptions& options;
  std::filesystem::path file;  // written (and a scratch file beside it for shards)
  std::function<void(const ExportProgress&)> progress;
  std::function<bool()> stopping;  // true: stop soon (then kFailedPrecondition)
};

base::Result<ExportOutput> WriteExport(const ExportRequest& request, BlobStore& blobs);

}  // namespace furrsight::workers::exporting
