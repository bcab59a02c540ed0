#include "workers/export/archive_writer.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <fmt/format.h>

namespace furrsight::workers::exporting {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr std::size_t kBufferBytes = 1 << 20;

base::Result<void> IoError(std::string_view what, const std::filesystem::path& path) {
  return Fail(ErrorCode::kUnavailable, fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

// Checks that `fill` delivers exactly `size` bytes, passing them on to `write`.
base::Result<void> FillExactly(std::string_view name, std::uint64_t size, const EntryFill& fill, const ChunkSink& write) {
  std::uint64_t seen = 0;
  auto ok = fill([&](std::string_view chunk) -> base::Result<void> {
    seen += chunk.size();
    if (seen > size) return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: more bytes than the {} announced", name, size));
    return write(chunk);
  });
  if (!ok) return ok;
  if (seen != size)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}: {} bytes delivered, {} announced", name, seen, size));
  return {};
}

// --- tar (POSIX ustar) ---

class TarWriter final : public ArchiveWriter {
 public:
  TarWriter(ArchiveOutput& out, std::int64_t mtime) : out_(out), mtime_(mtime) {}

  base::Result<void> Add(std::string_view name, std::uint64_t size, const EntryFill& fill) override {
    auto header = Header(name, size);
    if (!header) return std::unexpected(header.error());
    if (auto ok = out_.Write(*header); !ok) return ok;
    if (auto ok = FillExactly(name, size, fill, [&](std::string_view c) { return out_.Write(c); }); !ok) return ok;
    static const std::string kZeros(512, '\0');
    return out_.Write(std::string_view(kZeros).substr(0, (512 - size % 512) % 512));
  }

  base::Result<void> Finish() override { return out_.Write(std::string(1024, '\0')); }

 private:
  static void Octal(char* field, std::size_t width, std::uint64_t value) {
    // width-1 digits and a NUL, zero-padded
    std::string digits = fmt::format("{:0{}o}", value, width - 1);
    std::memcpy(field, digits.data(), width - 1);
    field[width - 1] = '\0';
  }

  base::Result<std::string> Header(std::string_view name, std::uint64_t size) const {
    std::string h(512, '\0');
    std::string_view prefix, base = name;
    if (name.size() > 100) {  // split at a '/' into prefix (<= 155) and name (<= 100)
      auto cut = name.rfind('/', 155);
      while (cut != std::string_view::npos && name.size() - cut - 1 > 100) cut = std::string_view::npos;
      if (cut == std::string_view::npos || cut == 0)
        return Fail(ErrorCode::kInvalidArgument, fmt::format("tar: the path {} is too long for ustar", name));
      prefix = name.substr(0, cut);
      base = name.substr(cut + 1);
    }
    if (size >= (std::uint64_t{1} << 33)) return Fail(ErrorCode::kInvalidArgument, fmt::format("tar: {} is 8 GiB or more", name));
    std::memcpy(&h[0], base.data(), base.size());
    Octal(&h[100], 8, 0644);
    Octal(&h[108], 8, 0);
    Octal(&h[116], 8, 0);
    Octal(&h[124], 12, size);
    Octal(&h[136], 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime_, 0)));
    std::memset(&h[148], ' ', 8);
    h[156] = '0';
    std::memcpy(&h[257], "ustar", 6);
    std::memcpy(&h[263], "00", 2);
    std::memcpy(&h[265], "furrsight", 9);
    std::memcpy(&h[297], "furrsight", 9);
    std::memcpy(&h[345], prefix.data(), prefix.size());
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    Octal(&h[148], 7, sum);  // six digits, NUL, then the space already there
    h[155] = ' ';
    return h;
  }

  ArchiveOutput& out_;
  std::int64_t mtime_;
};

// --- zip (stored entries; Zip64 past the classic limits) ---

void Le16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>(v >> 8);
}
void Le32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void Le64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

class ZipWriter final : public ArchiveWriter {
 public:
  ZipWriter(ArchiveOutput& out, std::int64_t mtime) : out_(out) {
    std::time_t t = static_cast<std::time_t>(std::max<std::int64_t>(mtime, 315532800));  // DOS time starts in 1980
    std::tm tm{};
    gmtime_r(&t, &tm);
    dos_date_ = static_cast<std::uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
    dos_time_ = static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  }

  base::Result<void> Add(std::string_view name, std::uint64_t size, const EntryFill& fill) override {
    if (size >= 0xffffffffULL)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("zip: {} is 4 GiB or more (use tar)", name));
    if (name.size() > 0xffff) return Fail(ErrorCode::kInvalidArgument, "zip: entry name too long");
    Entry e{std::string(name), 0, size, out_.offset()};
    std::string h;
    Le32(h, 0x04034b50);
    Le16(h, 20);          // version needed
    Le16(h, 0x0800);      // UTF-8 names
    Le16(h, 0);           // stored
    Le16(h, dos_time_);
    Le16(h, dos_date_);
    Le32(h, 0);           // CRC-32, patched after the data
    Le32(h, static_cast<std::uint32_t>(size));
    Le32(h, static_cast<std::uint32_t>(size));
    Le16(h, static_cast<std::uint16_t>(name.size()));
    Le16(h, 0);
    h += name;
    if (auto ok = out_.Write(h); !ok) return ok;
    uLong crc = crc32(0L, Z_NULL, 0);
    auto ok = FillExactly(name, size, fill, [&](std::string_view c) -> base::Result<void> {
      crc = crc32_z(crc, reinterpret_cast<const Bytef*>(c.data()), c.size());
      return out_.Write(c);
    });
    if (!ok) return ok;
    e.crc = static_cast<std::uint32_t>(crc);
    std::string crc_bytes;
    Le32(crc_bytes, e.crc);
    if (auto patched = out_.PatchAt(e.offset + 14, crc_bytes); !patched) return patched;
    entries_.push_back(std::move(e));
    return {};
  }

  base::Result<void> Finish() override {
    const std::uint64_t cd_start = out_.offset();
    for (const Entry& e : entries_) {
      const bool big_offset = e.offset >= 0xffffffffULL;
      std::string c;
      Le32(c, 0x02014b50);
      Le16(c, (3 << 8) | 45);  // made by: Unix, spec 4.5
      Le16(c, big_offset ? 45 : 20);
      Le16(c, 0x0800);
      Le16(c, 0);
      Le16(c, dos_time_);
      Le16(c, dos_date_);
      Le32(c, e.crc);
      Le32(c, static_cast<std::uint32_t>(e.size));
      Le32(c, static_cast<std::uint32_t>(e.size));
      Le16(c, static_cast<std::uint16_t>(e.name.size()));
      Le16(c, big_offset ? 12 : 0);  // extra: the Zip64 offset
      Le16(c, 0);
      Le16(c, 0);
      Le16(c, 0);
      Le32(c, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
      Le32(c, big_offset ? 0xffffffffu : static_cast<std::uint32_t>(e.offset));
      c += e.name;
      if (big_offset) {
        Le16(c, 0x0001);
        Le16(c, 8);
        Le64(c, e.offset);
      }
      if (auto ok = out_.Write(c); !ok) return ok;
    }
    const std::uint64_t cd_size = out_.offset() - cd_start, count = entries_.size();
    const bool zip64 = count >= 0xffff || cd_start >= 0xffffffffULL || cd_size >= 0xffffffffULL;
    std::string t;
    if (zip64) {
      const std::uint64_t record = out_.offset();
      Le32(t, 0x06064b50);
      Le64(t, 44);
      Le16(t, (3 << 8) | 45);
      Le16(t, 45);
      Le32(t, 0);
      Le32(t, 0);
      Le64(t, count);
      Le64(t, count);
      Le64(t, cd_size);
      Le64(t, cd_start);
      Le32(t, 0x07064b50);  // locator
      Le32(t, 0);
      Le64(t, record);
      Le32(t, 1);
    }
    Le32(t, 0x06054b50);
    Le16(t, 0);
    Le16(t, 0);
    Le16(t, zip64 ? 0xffff : static_cast<std::uint16_t>(count));
    Le16(t, zip64 ? 0xffff : static_cast<std::uint16_t>(count));
    Le32(t, zip64 ? 0xffffffffu : static_cast<std::uint32_t>(cd_size));
    Le32(t, zip64 ? 0xffffffffu : static_cast<std::uint32_t>(cd_start));
    Le16(t, 0);
    return out_.Write(t);
  }

 private:
  struct Entry {
    std::string name;
    std::uint32_t crc;
    std::uint64_t size;
    std::uint64_t offset;
  };
  ArchiveOutput& out_;
  std::uint16_t dos_date_ = 0, dos_time_ = 0;
  std::vector<Entry> entries_;  // ~100 bytes each: 1.2 MB for 10,000 pairs
};

}  // namespace

base::Result<std::unique_ptr<ArchiveOutput>> ArchiveOutput::Create(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(IoError("cannot create", path).error());
  auto out = std::unique_ptr<ArchiveOutput>(new ArchiveOutput(fd, path));
  out->buffer_.reserve(kBufferBytes);
  return out;
}

ArchiveOutput::~ArchiveOutput() {
  if (fd_ >= 0) ::close(fd_);
}

base::Result<void> ArchiveOutput::Flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path_);
    }
    done += static_cast<std::size_t>(n);
  }
  flushed_ += buffer_.size();
  buffer_.clear();
  return {};
}

base::Result<void> ArchiveOutput::Write(std::string_view bytes) {
  if (buffer_.size() + bytes.size() > kBufferBytes)
    if (auto ok = Flush(); !ok) return ok;
  if (bytes.size() >= kBufferBytes) {  // large chunks go straight through
    buffer_.assign(bytes);
    return Flush();
  }
  buffer_.append(bytes);
  return {};
}

base::Result<void> ArchiveOutput::PatchAt(std::uint64_t offset, std::string_view bytes) {
  if (offset >= flushed_) {
    std::memcpy(buffer_.data() + (offset - flushed_), bytes.data(), bytes.size());
    return {};
  }
  if (offset + bytes.size() > flushed_) {  // straddles the flushed part and the buffer
    if (auto ok = Flush(); !ok) return ok;
  }
  if (::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(bytes.size()))
    return IoError("cannot patch", path_);
  return {};
}

base::Result<void> ArchiveOutput::Close() {
  if (auto ok = Flush(); !ok) return ok;  // no fsync: the blob store makes its own copy durable
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return IoError("cannot close", path_);
  return {};
}

base::Result<void> ArchiveWriter::AddBytes(std::string_view name, std::string_view bytes) {
  return Add(name, bytes.size(), [&](const ChunkSink& sink) { return sink(bytes); });
}

std::unique_ptr<ArchiveWriter> MakeArchiveWriter(ArchiveKind kind, ArchiveOutput& out, std::int64_t mtime) {
  if (kind == ArchiveKind::kZip) return std::make_unique<ZipWriter>(out, mtime);
  return std::make_unique<TarWriter>(out, mtime);
}

}  // namespace furrsight::workers::exporting
