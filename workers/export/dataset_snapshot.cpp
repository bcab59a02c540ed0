#include "workers/export/dataset_snapshot.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/text.hpp"
#include "events/base/time.hpp"
#include "workers/vision/perceptual_hash.hpp"

namespace furrsight::workers::exporting {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;
using orchestrator::curation::PairStatusName;

constexpr int kBatch = 5000;

std::string Str(const json::object& o, std::string_view key) {
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_string()) return std::string(v->as_string());
  return "";
}
std::int64_t Int(const json::object& o, std::string_view key) {
  json::error_code ec;
  if (const auto* v = o.if_contains(key); v != nullptr && v->is_number()) {
    const auto n = v->to_number<std::int64_t>(ec);
    if (!ec) return n;
  }
  return 0;
}

bool Matches(const std::vector<std::string>& wanted, const std::string& name) {
  const std::string slug = base::Slug(name);
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) { return base::Slug(w) == slug; });
}

bool Selected(const ExportPair& p, const ExportFilters& f) {
  const auto status = std::string(PairStatusName(p.state.status));
  if (!f.statuses.empty() && std::find(f.statuses.begin(), f.statuses.end(), status) == f.statuses.end()) return false;
  if (!f.breeds.empty() && (p.state.breed.empty() || !Matches(f.breeds, p.state.breed))) return false;
  if (!f.services.empty() &&
      std::none_of(p.state.services.begin(), p.state.services.end(), [&](const auto& s) { return Matches(f.services, s); }))
    return false;
  if (f.from_us && p.created_us < *f.from_us) return false;
  if (f.to_us && p.created_us >= *f.to_us) return false;
  return true;  // the project is checked once the images are known

}

}  // namespace

base::Result<Snapshot> ReadSnapshot(events::EventStore& store, const events::LogPosition& as_of,
                                    const ExportFilters& filters,
                                    const std::function<void(std::int64_t)>& progress) {
  auto head = store.Head();
  if (!head) return std::unexpected(head.error());
  if (as_of > (*head))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("as_of {} is past the readable end of the log ({}); export as of a position the log has "
                            "reached",
                            events::FormatPosition(as_of), events::FormatPosition((*head))));
  Snapshot snap;
  snap.position = as_of;
  std::map<std::string, ExportPair> pairs;                 // by pair id: the manifest's order
  std::unordered_map<std::string, ExportImage> images;     // by sha256
  std::unordered_map<std::string, std::pair<std::string, std::string>> jobs;  // id -> (project, parent)

  auto read = [&](const events::ReadFilter& filter, const std::function<void(const events::RecordedEvent&)>& apply)
      -> base::Result<void> {
    events::LogPosition after{};
    for (;;) {
      auto batch = store.ReadAll(after, filter, kBatch);
      if (!batch) return std::unexpected(batch.error());
      for (const auto& e : *batch) {
        if (e.position > as_of) return {};
        apply(e);
        ++snap.events_read;
        snap.position_time_us = std::max(snap.position_time_us, e.recorded_at_us);
      }
      if (progress) progress(snap.events_read);
      if (batch->size() < static_cast<std::size_t>(kBatch)) return {};
      after = batch->back().position;
    }
  };

  // One category at a time: each read follows the (category, tx_id,
  // global_position) index in order; two categories at once would be sorted
  // again on every batch. The fold needs only each stream's own order.
  // Pairs first: the pairs the filters keep decide which images are worth
  // remembering, so memory follows the selected pairs, not every image ever
  // downloaded.
  auto ok = read({.categories = {"pair"}}, [&](const events::RecordedEvent& e) {
    const std::string id = e.stream_id.substr(5);
    auto& p = pairs[id];
    if (p.created_us == 0) p.created_us = e.recorded_at_us;
    orchestrator::curation::Evolve(p.state, e);
  });
  if (!ok) return std::unexpected(ok.error());
  std::unordered_set<std::string> wanted;  // the images of the pairs kept so far
  for (auto it = pairs.begin(); it != pairs.end();) {
    ExportPair& p = it->second;
    if (!p.state.exists()) {  // events of a pair never proposed
      it = pairs.erase(it);
      continue;
    }
    if (p.state.id.empty()) p.state.id = it->first;
    ++snap.pairs_seen;
    if (!Selected(p, filters)) {
      it = pairs.erase(it);
      continue;
    }
    wanted.insert(p.state.before_sha256);
    wanted.insert(p.state.after_sha256);
    ++it;
  }

  ok = read({.categories = {"image"}}, [&](const events::RecordedEvent& e) {
    if (e.type != "ImageDownloaded" && e.type != "ImageValidated") return;
    const std::string sha = e.stream_id.substr(6);
    if (!wanted.contains(sha)) return;
    json::error_code ec;
    auto parsed = json::parse(e.payload_json, ec);
    if (ec || !parsed.is_object()) return;
    const auto& o = parsed.as_object();
    auto& img = images[sha];
    if (e.type == "ImageDownloaded" && img.storage_key.empty()) {  // the first download describes the bytes
      img.storage_key = Str(o, "storage_key");
      img.format = Str(o, "format");
      img.content_type = Str(o, "content_type");
      img.url = Str(o, "url");
      img.crawl_job_id = Str(o, "crawl_job_id");
      img.width = static_cast<int>(Int(o, "width"));
      img.height = static_cast<int>(Int(o, "height"));
      img.file_size = static_cast<std::uint64_t>(Int(o, "file_size"));
    } else if (e.type == "ImageValidated") {
      if (auto h = vision::ParsePerceptualHashHex(Str(o, "phash"))) img.phash = *h;
      if (Int(o, "width") > 0) img.width = static_cast<int>(Int(o, "width"));
      if (Int(o, "height") > 0) img.height = static_cast<int>(Int(o, "height"));
    }
  });
  if (!ok) return std::unexpected(ok.error());

  if (!filters.project_id.empty()) {  // which project each crawl (or chunk of one) belongs to
    ok = read({.categories = {"job"}, .types = {"JobRequested"}}, [&](const events::RecordedEvent& e) {
      json::error_code ec;
      auto parsed = json::parse(e.payload_json, ec);
      if (ec || !parsed.is_object()) return;
      jobs[e.stream_id.substr(4)] = {Str(parsed.as_object(), "project_id"), Str(parsed.as_object(), "parent_job_id")};
    });
    if (!ok) return std::unexpected(ok.error());
  }
  auto project_of = [&](std::string job) {
    for (int depth = 0; depth < 8 && !job.empty(); ++depth) {
      auto it = jobs.find(job);
      if (it == jobs.end()) return std::string();
      if (!it->second.first.empty()) return it->second.first;
      job = it->second.second;
    }
    return std::string();
  };

  snap.pairs.reserve(pairs.size());
  for (auto& [id, p] : pairs) {
    auto find = [&](const std::string& sha) {
      auto it = images.find(sha);
      ExportImage img = it == images.end() ? ExportImage{} : it->second;
      img.sha256 = sha;  // known from the pair even when no image event was read
      return img;
    };
    p.before = find(p.state.before_sha256);
    p.after = find(p.state.after_sha256);
    if (!filters.project_id.empty()) {
      p.project_id = project_of(p.before.crawl_job_id);
      if (p.project_id != filters.project_id) continue;
    }
    snap.pairs.push_back(std::move(p));
  }
  return snap;
}

}  // namespace furrsight::workers::exporting
