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
  auto request = orchestrator::jobs::ParseExportPayload(ctx.payload());
  if (!request) return Failed{request.error().message, false};
  ExportOptions options{.format = request->format, .resize = request->resize, .shard_size = request->shard_size};
  const ExportFilters& filters = request->filters;
  const SplitOptions& splits = request->splits;
  const std::chrono::seconds lifetime = request->expires_in.value_or(settings_.default_link_lifetime);

  // The position the export reflects.
  events::LogPosition as_of;
  if (request->as_of) {
    as_of = *request->as_of;
  } else {
    auto head = store_.Head();
    if (!head) return Failed{"EXPORT_DATASET: " + head.error().message, true};
    as_of = *head;
  }
  ctx.Progress(0, {}, "reading the log");
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
  };
  auto phase = Clock::now();
  json::object timings;
  auto snapshot = ReadSnapshot(store_, as_of, filters, [&](std::int64_t read) {
    ctx.Progress(5, {{"events_read", read}}, "reading the log");
  });
  if (!snapshot) {
    if (snapshot.error().code == base::ErrorCode::kInvalidArgument) return BadInput(snapshot.error());
    return Failed{"EXPORT_DATASET: " + snapshot.error().message, true};
  }
  if (ctx.stopping()) return Stopped{};
  timings["read_log_ms"] = ms_since(phase);
  phase = Clock::now();
  const std::size_t groups = AssignSplits(snapshot->pairs, splits);
  timings["splits_ms"] = ms_since(phase);
  phase = Clock::now();

  const fs::path dir = settings_.scratch_dir.empty() ? fs::temp_directory_path() : settings_.scratch_dir;
  const fs::path file = dir / fmt::format("furrsight-export-{}-{}.part", ctx.job_id(), ctx.attempt());
  struct Cleanup {
    fs::path file;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(file, ec);
      fs::remove(file.string() + ".shard", ec);  // a WebDataset shard in the making
    }
  } cleanup{file};
  auto written = WriteExport({.snapshot = *snapshot,
                              .filters = filters,
                              .splits = splits,
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

  timings["write_ms"] = ms_since(phase);
  phase = Clock::now();
  ctx.Progress(95, Counters(written->totals), "uploading");
  const std::string stem = fmt::format("exports/{}/furrsight-grooming-{}", ctx.job_id(), events::FormatPosition(as_of));
  const std::string key = stem + "." + written->extension;
  auto stored = blobs_.PutFileMove(key, file, {.content_type = written->content_type});
  if (!stored) return Failed{"EXPORT_DATASET: upload: " + stored.error().message, true};
  auto card = blobs_.Put(stem + ".README.md", written->card, {.content_type = "text/markdown; charset=utf-8"});
  if (!card) return Failed{"EXPORT_DATASET: upload: " + card.error().message, true};
  const auto now = std::chrono::system_clock::now();
  auto url = blobs_.PresignGetAt(key, lifetime, now);
  auto card_url = blobs_.PresignGetAt(stem + ".README.md", lifetime, now);
  if (!url || !card_url) {
    const base::Error& e = url ? card_url.error() : url.error();
    return Failed{"EXPORT_DATASET: cannot sign the download link: " + e.message,
                  e.code != base::ErrorCode::kInvalidArgument};
  }
  timings["upload_ms"] = ms_since(phase);
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
                                {"expires_at_us", expires_at_us},
                                {"timings", std::move(timings)}}};
}

}  // namespace furrsight::workers
