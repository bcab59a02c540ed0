// Archives written as a stream to a file, with bounded memory: tar (POSIX
// ustar) and zip (stored entries — the images are compressed already —
// with Zip64 records when the archive passes 4 GiB or 65,535 entries).
//
// Deterministic: the same entries in the same order give the same bytes
// (the modification time is the caller's, owner and mode are fixed), so a
// repeated export of the same log position is byte-identical.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "events/base/error.hpp"

namespace furrsight::workers::exporting {

// A file written through a buffer; knows its offset; can patch bytes already
// written (the zip writer fills in a CRC after the data).
class ArchiveOutput {
 public:
  static base::Result<std::unique_ptr<ArchiveOutput>> Create(const std::filesystem::path& path);
  ~ArchiveOutput();
  ArchiveOutput(const ArchiveOutput&) = delete;
  ArchiveOutput& operator=(const ArchiveOutput&) = delete;

  base::Result<void> Write(std::string_view bytes);
  base::Result<void> PatchAt(std::uint64_t offset, std::string_view bytes);
  std::uint64_t offset() const { return flushed_ + buffer_.size(); }
  // Flushes and closes (no fsync: the file is a scratch copy, uploaded next).
  base::Result<void> Close();

 private:
  ArchiveOutput(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  base::Result<void> Flush();
  int fd_;
  std::filesystem::path path_;
  std::string buffer_;
  std::uint64_t flushed_ = 0;
};

// Receives an entry's bytes in order.
using ChunkSink = std::function<base::Result<void>(std::string_view chunk)>;
// Produces an entry's bytes into the sink (exactly the size announced).
using EntryFill = std::function<base::Result<void>(const ChunkSink& sink)>;

class ArchiveWriter {
 public:
  virtual ~ArchiveWriter() = default;
  // `name`: a relative path with '/' separators. kInvalidArgument if `fill`
  // delivers another number of bytes than `size`.
  virtual base::Result<void> Add(std::string_view name, std::uint64_t size, const EntryFill& fill) = 0;
  // Writes the trailer (tar's end blocks, zip's central directory).
  virtual base::Result<void> Finish() = 0;

  base::Result<void> AddBytes(std::string_view name, std::string_view bytes);
};

enum class ArchiveKind { kTar, kZip };
// `mtime`: seconds since the Unix epoch, stamped on every entry.
std::unique_ptr<ArchiveWriter> MakeArchiveWriter(ArchiveKind kind, ArchiveOutput& out, std::int64_t mtime);

}  // namespace furrsight::workers::exporting
