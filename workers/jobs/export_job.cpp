#include "workers/jobs/export_job.hpp"

#include <chrono>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/log.hpp"
#include "workers/export/dataset_snapshot.hpp"
#include "workers/export/export_writer.hpp"
#include "workers/export/splits.hpp"

namespace furrsight::workers {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace exporting;

constexpr std::int64_t kMaxLinkSeconds = 30LL * 24 * 3600;

Failed BadInput(const base::Error& e) { return Failed{"EXPORT_DATASET: " + e.message, false}; }

// Progress: reading the log 0-10 %, writing 10-95 %, uploading 95-100 %.
int Percent(const ExportProgress& p) {
  if (p.pairs_total == 0) return 95;
  return 10 + static_cast<int>(85 * p.pairs_done / p.pairs_total);
}

std::map<std::string, std::int64_t> Counters(const ExportProgress& p) {
  return {{"pairs_total", p.pairs_total},
          {"pairs_exported", p.pairs_done},
          {"images_total", p.images_total},
          {"images_exported", p.images_done},
          {"bytes_written", static_cast<std::int64_t>(p.bytes)}};
}

}  // namespace

JobOutcome ExportJob::Run(JobContext& ctx) {
  const json::object& payload = ctx.payload();
  ExportOptions options;
  if (const auto* f = payload.if_contains("format"); f != nullptr && f->is_string()) options.format = std::string(f->as_string());
  if (const auto* n = payload.if_contains("shard_size")) {
    if (!n->is_int64() || n->as_int64() < 1 || n->as_int64() > 1'000'000)
      return Failed{"EXPORT_DATASET: shard_size must be an integer from 1 to 1000000", false};
    options.shard_size = static_cast<int>(n->as_int64());
  }
  auto resize = ParseResizeOptions(payload.if_contains("resize"));
  if (!resize) return BadInput(resize.error());
  options.resize = *resize;
  const auto* filters_json = payload.if_contains("filters");
  auto filters = ParseFilters(filters_json != nullptr && filters_json->is_object() ? &filters_json->as_object() : nullptr);
  if (!filters) return BadInput(filters.error());
  const auto* splits_json = payload.if_contains("splits");
  if (splits_json != nullptr && !splits_json->is_object()) return Failed{"EXPORT_DATASET: splits must be an object", false};
  auto splits = ParseSplitOptions(splits_json != nullptr ? &splits_json->as_object() : nullptr);
  if (!splits) return BadInput(splits.error());
  std::chrono::seconds lifetime = settings_.default_link_lifetime;
  if (const auto* e = payload.if_contains("expires_in_seconds")) {
    if (!e->is_int64() || e->as_int64() < 1 || e->as_int64() > kMaxLinkSeconds)
      return Failed{fmt::format("EXPORT_DATASET: expires_in_seconds must be an integer from 1 to {} (30 days)", kMaxLinkSeconds),
                    false};
    lifetime = std::chrono::seconds(e->as_int64());
  }

  // The position the export reflects.
  events::LogPosition as_of;
  if (const auto* a = payload.if_contains("as_of"); a != nullptr && a->is_string()) {
    auto parsed = events::ParsePosition(a->as_string(), "as_of");
    if (!parsed) return BadInput(parsed.error());
    as_of = *parsed;
  } else {
    auto head = store_.Head();
    if (!head) return Failed{"EXPORT_DATASET: " + head.error().message, true};
    as_of = (*head);
  }
  ctx.Progress(0, {}, "reading the log");
  auto snapshot = ReadSnapshot(store_, as_of, *filters, [&](std::int64_t read) {
    ctx.Progress(5, {{"events_read", read}}, "reading the log");
  });
  if (!snapshot) {
    if (snapshot.error().code == base::ErrorCode::kInvalidArgument) return BadInput(snapshot.error());
    return Failed{"EXPORT_DATASET: " + snapshot.error().message, true};
  }
  if (ctx.stopping()) return Stopped{};
  const std::size_t groups = AssignSplits(snapshot->pairs, *splits);

  const fs::path dir = settings_.scratch_dir.empty() ? fs::temp_directory_path() : settings_.scratch_dir;
  const fs::path file = dir / fmt::format("furrsight-export-{}-{}.part", ctx.job_id(), ctx.attempt());
  struct Cleanup {
    fs::path file;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(file, ec);
    }
  } cleanup{file};
  auto written = WriteExport({.snapshot = *snapshot,
                              .filters = *filters,
                              .splits = *splits,
                              .options = options,
                              .file = file,
                              .progress = [&](const ExportProgress& p) { ctx.Progress(Percent(p), Counters(p), "writing"); },
                              .stopping = [&] { return ctx.stopping(); }},
                             blobs_);
  if (ctx.stopping()) return Stopped{};
  if (!written) {
    const bool bad = written.error().code == base::ErrorCode::kInvalidArgument;
    return Failed{"EXPORT_DATASET: " + written.error().message, !bad};
  }

  ctx.Progress(95, Counters(written->totals), "uploading");
  const std::string stem = fmt::format("exports/{}/furrsight-grooming-{}", ctx.job_id(), events::FormatPosition(as_of));
  const std::string key = stem + "." + written->extension;
  auto stored = blobs_.PutFile(key, file, {.content_type = written->content_type});
  if (!stored) return Failed{"EXPORT_DATASET: upload: " + stored.error().message, true};
  auto card = blobs_.Put(stem + ".README.md", written->card, {.content_type = "text/markdown; charset=utf-8"});
  if (!card) return Failed{"EXPORT_DATASET: upload: " + card.error().message, true};
  const auto now = std::chrono::system_clock::now();
  auto url = blobs_.PresignGetAt(key, lifetime, now);
  auto card_url = blobs_.PresignGetAt(stem + ".README.md", lifetime, now);
  if (!url || !card_url) return Failed{"EXPORT_DATASET: cannot sign the download link", true};
  const std::int64_t expires_at_us =
      std::chrono::duration_cast<std::chrono::microseconds>((now + lifetime).time_since_epoch()).count();

  json::object splits_out;
  for (const auto& [s, n] : written->split_counts) splits_out[s] = n;
  ctx.Progress(100, Counters(written->totals), "done");
  base::log::Info("export written", {{"job_id", ctx.job_id()},
                                     {"format", options.format},
                                     {"pairs", written->totals.pairs_done},
                                     {"bytes", stored->size}});
  return Completed{json::object{{"format", options.format},
                                {"position", events::FormatPosition(as_of)},
                                {"pairs", written->totals.pairs_done},
                                {"pairs_in_log", snapshot->pairs_seen},
                                {"images_exported", written->totals.images_done},
                                {"images_total", written->totals.images_total},
                                {"split_groups", static_cast<std::int64_t>(groups)},
                                {"splits", std::move(splits_out)},
                                {"file_size", static_cast<std::int64_t>(stored->size)},
                                {"blob_key", key},
                                {"manifest_sha256", written->manifest_sha256},
                                {"download_url", *url},
                                {"card_url", *card_url},
                                {"expires_at_us", expires_at_us}}};
}

}  // namespace furrsight::workers
