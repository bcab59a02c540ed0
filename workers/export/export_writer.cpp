#include "workers/export/export_writer.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>

#include <boost/json.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "events/base/sha256.hpp"
#include "workers/export/archive_writer.hpp"
#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::exporting {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using base::ErrorCode;
using base::Fail;

constexpr std::string_view kSplits[] = {"train", "validation", "test"};
constexpr std::size_t kFileChunk = 1 << 20;

std::string ExtensionOf(std::string_view format) {
  if (format == "jpeg" || format == "jpg") return "jpg";
  if (format.empty()) return "bin";
  return std::string(format);
}

std::string CsvField(std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

// One image as written: where, its bytes' hash and size.
struct WrittenImage {
  std::string file, sha256;
  int width = 0, height = 0;
};

// Streams (or re-encodes) one image into an archive entry.
class ImageSource {
 public:
  ImageSource(BlobStore& blobs, const std::optional<ResizeOptions>& resize) : blobs_(blobs), resize_(resize) {}

  std::string Extension(const ExportImage& img) const {
    return ExtensionOf(resize_ ? resize_->format : img.format);
  }

  base::Result<WrittenImage> Write(ArchiveWriter& archive, const std::string& name, const ExportImage& img) {
    if (img.storage_key.empty() && img.sha256.size() != 64)
      return Fail(ErrorCode::kInvalidArgument, "the pair names no image");
    const std::string key = img.storage_key.empty() ? ContentKey(img.sha256) : img.storage_key;
    WrittenImage w{name, "", img.width, img.height};
    base::Sha256 hash;
    if (!resize_) {
      std::uint64_t size = img.file_size;
      if (size == 0) {
        auto head = blobs_.Head(key);
        if (!head) return std::unexpected(head.error());
        size = head->size;
      }
      auto ok = archive.Add(name, size, [&](const ChunkSink& sink) -> base::Result<void> {
        auto got = blobs_.GetTo(key, [&](std::string_view chunk) {
          hash.Update(chunk);
          return sink(chunk);
        });
        if (!got) return std::unexpected(got.error());
        return {};
      });
      if (!ok) return std::unexpected(ok.error());
      w.sha256 = base::ToHex(hash.Finish());
      return w;
    }
    auto bytes = blobs_.Get(key);
    if (!bytes) return std::unexpected(bytes.error());
    auto decoded = vision::DecodeImage(*bytes);
    if (!decoded) return Fail(ErrorCode::kInvalidArgument, fmt::format("image {}: {}", img.sha256, decoded.error().message));
    cv::Mat pixels = decoded->pixels;
    const int longest = std::max(pixels.cols, pixels.rows);
    if (longest > resize_->max_side) {
      const double scale = static_cast<double>(resize_->max_side) / longest;
      cv::Mat smaller;
      cv::resize(pixels, smaller,
                 cv::Size(std::max(1, static_cast<int>(pixels.cols * scale + 0.5)),
                          std::max(1, static_cast<int>(pixels.rows * scale + 0.5))),
                 0, 0, cv::INTER_AREA);
      pixels = smaller;
    }
    const auto format = resize_->format == "png"    ? vision::ImageFormat::kPng
                        : resize_->format == "webp" ? vision::ImageFormat::kWebp
                                                    : vision::ImageFormat::kJpeg;
    auto encoded = vision::EncodeImage(pixels, format, resize_->quality);
    if (!encoded) return std::unexpected(encoded.error());
    if (auto ok = archive.AddBytes(name, encoded->bytes); !ok) return std::unexpected(ok.error());
    w.sha256 = base::Sha256Hex(encoded->bytes);
    w.width = encoded->width;
    w.height = encoded->height;
    return w;
  }

 private:
  BlobStore& blobs_;
  const std::optional<ResizeOptions>& resize_;
};

json::object ImageRecord(const ExportImage& img, const WrittenImage* written) {
  json::object o;
  o["file"] = written ? written->file : "/api/v1/images/" + img.sha256;
  o["sha256"] = written ? written->sha256 : img.sha256;
  o["source_sha256"] = img.sha256;
  o["width"] = written ? written->width : img.width;
  o["height"] = written ? written->height : img.height;
  o["url"] = img.url;
  return o;
}

json::object ManifestRecord(const ExportPair& p, const WrittenImage* before, const WrittenImage* after) {
  const auto& s = p.state;
  json::array services, notes;
  for (const auto& x : s.services) services.emplace_back(x);
  for (const auto& n : s.notes) notes.emplace_back(n.text);
  json::object o;
  o["key"] = s.id;
  o["split"] = p.split;
  o["status"] = orchestrator::curation::PairStatusName(s.status);
  o["breed"] = s.breed.empty() ? json::value(nullptr) : json::value(s.breed);
  o["services"] = std::move(services);
  const auto* confidence = s.analysis.if_contains("confidence");
  o["confidence"] = confidence != nullptr && confidence->is_number() ? *confidence : json::value(nullptr);
  o["before"] = ImageRecord(p.before, before);
  o["after"] = ImageRecord(p.after, after);
  o["source_url"] = s.source_url;
  o["cue"] = s.cue;
  o["similarity"] = s.similarity;
  o["reject_reason"] = s.reject_reason;
  o["notes"] = std::move(notes);
  o["proposed_at"] = s.created_at;
  o["version"] = s.version;
  return o;
}

constexpr std::string_view kCsvHeader =
    "key,split,status,breed,services,confidence,before_file,before_sha256,after_file,after_sha256,source_url,cue,"
    "similarity,proposed_at\n";

std::string CsvRow(const json::object& r) {
  auto str = [&](std::string_view k) -> std::string {
    const auto& v = r.at(k);
    if (v.is_null()) return "";
    if (v.is_string()) return std::string(v.as_string());
    return json::serialize(v);
  };
  std::vector<std::string> services;
  for (const auto& s : r.at("services").as_array()) services.emplace_back(s.as_string());
  const auto& b = r.at("before").as_object();
  const auto& a = r.at("after").as_object();
  std::vector<std::string> f = {str("key"), str("split"), str("status"), str("breed"), Join(services, ";"),
                                str("confidence"), std::string(b.at("file").as_string()),
                                std::string(b.at("sha256").as_string()), std::string(a.at("file").as_string()),
                                std::string(a.at("sha256").as_string()), str("source_url"), str("cue"),
                                str("similarity"), str("proposed_at")};
  std::string line;
  for (std::size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + CsvField(f[i]);
  return line + "\n";
}

std::string DatasetCard(const ExportRequest& req, const std::map<std::string, std::int64_t>& split_counts) {
  std::map<std::string, std::int64_t> breeds, services;
  for (const auto& p : req.snapshot.pairs) {
    ++breeds[p.state.breed.empty() ? "(none)" : p.state.breed];
    if (p.state.services.empty()) ++services["(none)"];
    for (const auto& s : p.state.services) ++services[s];
  }
  const auto& sp = req.splits;
  const std::time_t last = static_cast<std::time_t>(req.snapshot.position_time_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&last, &tm);
  std::string card = fmt::format(
      "---\npretty_name: FurrSight Grooming Dataset\ntask_categories:\n- image-classification\n"
      "size_categories:\n- {}\n---\n\n"
      "# FurrSight Grooming Dataset\n\n"
      "Before-and-after dog-grooming image pairs found on the web, paired automatically, labelled with breed and "
      "grooming services by a vision-language model, and verified by researchers.\n\n"
      "## This export\n\n"
      "- Log position: `{}` (its last event was recorded at {:%Y-%m-%dT%H:%M:%S}Z). Exporting again as of this "
      "position (`\"as_of\": \"{}\"`) gives byte-identical files.\n"
      "- Format: `{}`\n- Pairs: {} (of {} pairs in the log at that position)\n- Filters: `{}`\n"
      "- Splits: train {}, validation {}, test {}, seed `{}`; pairs sharing an image or holding near-duplicate "
      "images (pHash distance at most {}) are in the same split\n",
      req.snapshot.pairs.size() < 1000     ? "n<1K"
      : req.snapshot.pairs.size() < 10000  ? "1K<n<10K"
      : req.snapshot.pairs.size() < 100000 ? "10K<n<100K"
                                           : "100K<n<1M",
      events::FormatPosition(req.snapshot.position), tm, events::FormatPosition(req.snapshot.position),
      req.options.format, req.snapshot.pairs.size(), req.snapshot.pairs_seen, json::serialize(FiltersJson(req.filters)),
      sp.train, sp.validation, sp.test, sp.seed, sp.near_duplicate_distance);
  if (req.options.resize)
    card += fmt::format("- Images re-encoded: longest side at most {} px, {} quality {}\n", req.options.resize->max_side,
                        req.options.resize->format, req.options.resize->quality);
  card += "\n## Splits\n\n| split | pairs |\n|---|---|\n";
  for (auto s : kSplits) card += fmt::format("| {} | {} |\n", s, split_counts.contains(std::string(s)) ? split_counts.at(std::string(s)) : 0);
  card += "\n## Breeds\n\n| breed | pairs |\n|---|---|\n";
  for (const auto& [b, n] : breeds) card += fmt::format("| {} | {} |\n", b, n);
  card += "\n## Grooming services\n\n| service | pairs |\n|---|---|\n";
  for (const auto& [s, n] : services) card += fmt::format("| {} | {} |\n", s, n);
  card +=
      "\n## Files\n\n`manifest.jsonl` has one line per pair: key, split, status, breed, services, confidence, "
      "before/after (file, sha256 of the file, source_sha256, width, height, source url), source page, pairing cue, "
      "similarity, notes. Images keep the rights of their sources: see each pair's `source_url`.\n";
  return card;
}

base::Result<void> AddFile(ArchiveWriter& archive, const std::string& name, const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return Fail(ErrorCode::kUnavailable, fmt::format("cannot read {}: {}", file.string(), ec.message()));
  return archive.Add(name, size, [&](const ChunkSink& sink) -> base::Result<void> {
    std::ifstream in(file, std::ios::binary);
    std::string chunk(kFileChunk, '\0');
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      if (in.gcount() > 0)
        if (auto ok = sink(std::string_view(chunk.data(), static_cast<std::size_t>(in.gcount()))); !ok) return ok;
    }
    return {};
  });
}

base::Result<void> WriteText(const fs::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Fail(ErrorCode::kUnavailable, fmt::format("cannot write {}", file.string()));
  return {};
}

}  // namespace

base::Result<ExportOutput> WriteExport(const ExportRequest& req, BlobStore& blobs) {
  const auto& opt = req.options;
  const std::string& fmt_name = opt.format;
  ExportOutput out;
  out.file = req.file;
  ExportProgress progress;
  progress.pairs_total = static_cast<std::int64_t>(req.snapshot.pairs.size());
  const bool with_images = fmt_name != "csv" && fmt_name != "jsonl";
  progress.images_total = with_images ? 2 * progress.pairs_total : 0;
  for (const auto& p : req.snapshot.pairs) ++out.split_counts[p.split];
  out.card = DatasetCard(req, out.split_counts);

  // Pairs in split order, then by id (the snapshot's order).
  std::vector<const ExportPair*> ordered;
  for (auto split : kSplits)
    for (const auto& p : req.snapshot.pairs)
      if (p.split == split) ordered.push_back(&p);

  const std::string root = opt.root;
  std::string manifest, csv(kCsvHeader);
  auto record = [&](const ExportPair& p, const WrittenImage* b, const WrittenImage* a) {
    json::object r = ManifestRecord(p, b, a);
    manifest += json::serialize(r) + "\n";
    csv += CsvRow(r);
    return r;
  };
  auto report = [&] {
    if (req.progress) req.progress(progress);
  };
  auto stopped = [&] { return req.stopping && req.stopping(); };
  auto cancelled = [] { return Fail(ErrorCode::kFailedPrecondition, "export stopped before it was complete"); };

  if (!with_images) {
    for (const auto* p : ordered) {
      if (stopped()) return cancelled();
      record(*p, nullptr, nullptr);
      ++progress.pairs_done;
    }
    const std::string& text = fmt_name == "csv" ? csv : manifest;
    if (auto ok = WriteText(req.file, text); !ok) return std::unexpected(ok.error());
    out.content_type = fmt_name == "csv" ? "text/csv" : "application/x-ndjson";
    out.extension = fmt_name;
    out.manifest_sha256 = base::Sha256Hex(text);
    progress.bytes = text.size();
    out.totals = progress;
    report();
    return out;
  }

  auto output = ArchiveOutput::Create(req.file);
  if (!output) return std::unexpected(output.error());
  const std::int64_t mtime = req.snapshot.position_time_us / 1'000'000;
  const bool zip = fmt_name == "zip";
  auto archive = MakeArchiveWriter(zip ? ArchiveKind::kZip : ArchiveKind::kTar, **output, mtime);
  ImageSource images(blobs, opt.resize);
  auto write_pair = [&](ArchiveWriter& into, const ExportPair& p, const std::string& before_name,
                        const std::string& after_name) -> base::Result<std::pair<WrittenImage, WrittenImage>> {
    // A missing image will not come back by retrying: the error names the pair and says what to do.
    auto missing = [&](const base::Error& e, std::string_view side, const ExportImage& img) -> base::Error {
      if (e.code != ErrorCode::kNotFound && e.code != ErrorCode::kInvalidArgument) return e;
      return base::Error{ErrorCode::kInvalidArgument,
                         fmt::format("pair {}: its {} image {} cannot be exported ({}); leave the pair out (filters, or "
                                     "reject it) or restore the blob",
                                     p.state.id, side, img.sha256, e.message)};
    };
    auto b = images.Write(into, before_name, p.before);
    if (!b) return std::unexpected(missing(b.error(), "before", p.before));
    auto a = images.Write(into, after_name, p.after);
    if (!a) return std::unexpected(missing(a.error(), "after", p.after));
    progress.images_done += 2;
    ++progress.pairs_done;
    progress.bytes = (*output)->offset();
    report();
    return std::pair{std::move(*b), std::move(*a)};
  };

  if (fmt_name == "zip" || fmt_name == "tar") {
    for (const auto* p : ordered) {
      if (stopped()) return cancelled();
      const std::string stem = fmt::format("{}/{}/{}", root, p->split, p->state.id);
      auto w = write_pair(*archive, *p, stem + ".before." + images.Extension(p->before),
                          stem + ".after." + images.Extension(p->after));
      if (!w) return std::unexpected(w.error());
      w->first.file = w->first.file.substr(root.size() + 1);
      w->second.file = w->second.file.substr(root.size() + 1);
      record(*p, &w->first, &w->second);
    }
  } else if (fmt_name == "imagefolder") {
    std::map<std::string, std::string> metadata;  // split -> metadata.jsonl
    for (const auto* p : ordered) {
      if (stopped()) return cancelled();
      const std::string dir = fmt::format("{}/{}/", root, p->split);
      const std::string b = p->state.id + "_before." + images.Extension(p->before),
                        a = p->state.id + "_after." + images.Extension(p->after);
      auto w = write_pair(*archive, *p, dir + b, dir + a);
      if (!w) return std::unexpected(w.error());
      w->first.file = p->split + "/" + b;
      w->second.file = p->split + "/" + a;
      json::object r = record(*p, &w->first, &w->second);
      json::object m{{"before_file_name", b}, {"after_file_name", a}};
      for (const char* k : {"key", "status", "breed", "services", "confidence", "source_url"}) m[k] = r.at(k);
      metadata[p->split] += json::serialize(m) + "\n";
    }
    for (const auto& [split, lines] : metadata)
      if (auto ok = archive->AddBytes(fmt::format("{}/{}/metadata.jsonl", root, split), lines); !ok)
        return std::unexpected(ok.error());
  } else if (fmt_name == "webdataset") {
    const fs::path shard_file = req.file.string() + ".shard";
    for (auto split : kSplits) {
      std::vector<const ExportPair*> in_split;
      for (const auto* p : ordered)
        if (p->split == split) in_split.push_back(p);
      for (std::size_t start = 0, n = 0; start < in_split.size(); start += static_cast<std::size_t>(opt.shard_size), ++n) {
        const std::string shard_name = fmt::format("{}-{:06}.tar", split, n);
        auto shard_out = ArchiveOutput::Create(shard_file);
        if (!shard_out) return std::unexpected(shard_out.error());
        auto shard = MakeArchiveWriter(ArchiveKind::kTar, **shard_out, mtime);
        const std::size_t end = std::min(in_split.size(), start + static_cast<std::size_t>(opt.shard_size));
        for (std::size_t i = start; i < end; ++i) {
          if (stopped()) return cancelled();
          const ExportPair& p = *in_split[i];
          auto w = write_pair(*shard, p, p.state.id + ".before." + images.Extension(p.before),
                              p.state.id + ".after." + images.Extension(p.after));
          if (!w) return std::unexpected(w.error());
          const std::string prefix = fmt::format("{}/{}#", split, shard_name);
          w->first.file = prefix + w->first.file;
          w->second.file = prefix + w->second.file;
          json::object r = record(p, &w->first, &w->second);
          if (auto ok = shard->AddBytes(p.state.id + ".json", json::serialize(r)); !ok) return std::unexpected(ok.error());
        }
        if (auto ok = shard->Finish(); !ok) return std::unexpected(ok.error());
        if (auto ok = (*shard_out)->Close(); !ok) return std::unexpected(ok.error());
        if (auto ok = AddFile(*archive, fmt::format("{}/{}/{}", root, split, shard_name), shard_file); !ok)
          return std::unexpected(ok.error());
      }
    }
    std::error_code ec;
    fs::remove(shard_file, ec);
  } else {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("unknown export format '{}'", fmt_name));
  }

  for (auto [name, text] : {std::pair<std::string, const std::string*>{"README.md", &out.card},
                            {"manifest.jsonl", &manifest}, {"manifest.csv", &csv}})
    if (auto ok = archive->AddBytes(root + "/" + name, *text); !ok) return std::unexpected(ok.error());
  if (auto ok = archive->Finish(); !ok) return std::unexpected(ok.error());
  progress.bytes = (*output)->offset();
  if (auto ok = (*output)->Close(); !ok) return std::unexpected(ok.error());
  out.content_type = zip ? "application/zip" : "application/x-tar";
  out.extension = zip ? "zip" : "tar";
  out.manifest_sha256 = base::Sha256Hex(manifest);
  out.totals = progress;
  report();
  return out;
}

}  // namespace furrsight::workers::exporting
