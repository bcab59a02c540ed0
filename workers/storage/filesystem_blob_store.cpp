#include "workers/storage/filesystem_blob_store.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/sha256.hpp"
#include "workers/storage/hmac.hpp"

namespace furrsight::workers {
namespace {

namespace fs = std::filesystem;
using base::ErrorCode;
using base::Fail;

inline constexpr std::size_t kChunk = 1 << 20;
inline constexpr std::size_t kMinSigningKeyLength = 16;

std::string ErrnoText(int err) { return std::strerror(err); }

// Closes a descriptor and, unless released, removes the temporary file.
class TempFile {
 public:
  TempFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }
  // fsync and close; the file stays until Release().
  base::Result<void> SyncAndClose() {
    if (::fsync(fd_) != 0)
      return Fail(ErrorCode::kInternal, fmt::format("cannot fsync {}: {}", path_.string(), ErrnoText(errno)));
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Fail(ErrorCode::kInternal, fmt::format("cannot close {}: {}", path_.string(), ErrnoText(errno)));
    return {};
  }
  void Release() { path_.clear(); }

 private:
  int fd_;
  fs::path path_;
};

base::Result<std::unique_ptr<TempFile>> MakeTemp(const fs::path& dir, std::string_view name) {
  std::string tmpl = (dir / fmt::format(".{}.tmp-XXXXXX", name)).string();
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0)
    return Fail(ErrorCode::kInternal, fmt::format("cannot create a temporary file in {}: {}", dir.string(),
                                                  ErrnoText(errno)));
  ::fchmod(fd, 0644);
  return std::make_unique<TempFile>(fd, fs::path(tmpl));
}

base::Result<void> WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(ErrorCode::kInternal, fmt::format("cannot write {}: {}", path.string(), ErrnoText(errno)));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

base::Result<void> SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorCode::kInternal, fmt::format("cannot open {}: {}", dir.string(), ErrnoText(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Fail(ErrorCode::kInternal, fmt::format("cannot fsync {}: {}", dir.string(), ErrnoText(err)));
  return {};
}

// mkdir -p of root/relative, fsyncing the parent of every directory it made
// so that a blob renamed into it survives a crash.
base::Result<void> EnsureDirs(const fs::path& root, const fs::path& relative) {
  fs::path dir = root;
  for (const auto& part : relative) {
    fs::path next = dir / part;
    if (::mkdir(next.c_str(), 0755) == 0) {
      if (auto ok = SyncDir(dir); !ok) return ok;
    } else if (errno != EEXIST) {
      return Fail(ErrorCode::kInternal, fmt::format("cannot create {}: {}", next.string(), ErrnoText(errno)));
    } else if (std::error_code ec; !fs::is_directory(next, ec)) {
      // S3 allows keys "a" and "a/b" side by side; a directory tree cannot.
      return Fail(ErrorCode::kConflict,
                  fmt::format("'{}' is a blob, so no key can lie below it (in the file store a key cannot be "
                              "the directory of another)",
                              fs::relative(next, root).string()));
    }
    dir = next;
  }
  return {};
}

fs::path MetaPathOf(const fs::path& blob) {
  return blob.parent_path() / fmt::format(".{}.meta", blob.filename().string());
}

struct Meta {
  std::string content_type = std::string(kDefaultContentType);
  std::string sha256;
};

// A missing or unreadable sidecar means the defaults: the bytes are the truth.
Meta ReadMeta(const fs::path& blob) {
  Meta meta;
  std::ifstream in(MetaPathOf(blob));
  if (!in) return meta;
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto value = boost::json::parse(text.str(), ec);
  if (ec || !value.is_object()) return meta;
  const auto& obj = value.as_object();
  if (auto* ct = obj.if_contains("content_type"); ct != nullptr && ct->is_string())
    meta.content_type = std::string(ct->as_string());
  if (auto* sha = obj.if_contains("sha256"); sha != nullptr && sha->is_string())
    meta.sha256 = std::string(sha->as_string());
  return meta;
}

base::Result<std::int64_t> ParseUnixSeconds(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > 18 || ec != std::errc() || end != text.data() + text.size() || value < 0 ||
      text.front() == '+')
    return Fail(ErrorCode::kInvalidArgument, fmt::format("expires '{}' is not a time in unix seconds", text));
  return value;
}

std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

base::Result<std::unique_ptr<FilesystemBlobStore>> FilesystemBlobStore::Open(FilesystemBlobStoreOptions options) {
  if (options.root.empty()) return Fail(ErrorCode::kInvalidArgument, "the file blob store needs a root directory");
  if (options.signing_key.size() < kMinSigningKeyLength)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the blob signing key must be at least {} bytes", kMinSigningKeyLength));
  options.root = fs::absolute(options.root);
  std::error_code ec;
  fs::create_directories(options.root, ec);
  if (ec)
    return Fail(ErrorCode::kFailedPrecondition,
                fmt::format("cannot create the blob directory {}: {}", options.root.string(), ec.message()));
  return std::unique_ptr<FilesystemBlobStore>(new FilesystemBlobStore(std::move(options)));
}

namespace {

// The sidecar of the blob at `path` (content type, SHA-256), written whole and renamed into place.
base::Result<void> WriteMeta(const fs::path& path, std::string_view content_type, const std::string& sha256) {
  auto meta = MakeTemp(path.parent_path(), path.filename().string() + ".meta");
  if (!meta) return std::unexpected(meta.error());
  boost::json::object obj{{"content_type", content_type}, {"sha256", sha256}};
  if (auto ok = WriteAll((*meta)->fd(), boost::json::serialize(obj), (*meta)->path()); !ok) return ok;
  if (auto ok = (*meta)->SyncAndClose(); !ok) return ok;
  if (::rename((*meta)->path().c_str(), MetaPathOf(path).c_str()) != 0)
    return Fail(ErrorCode::kInternal, fmt::format("cannot rename into {}: {}", MetaPathOf(path).string(),
                                                  ErrnoText(errno)));
  (*meta)->Release();
  return {};
}

}  // namespace

template <class Fill>
base::Result<BlobInfo> FilesystemBlobStore::WriteBlob(std::string_view key, const PutOptions& options, Fill&& fill) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (auto ok = ValidatePutOptions(options); !ok) return std::unexpected(ok.error());
  const fs::path path = PathOf(key);
  const fs::path dir = path.parent_path();
  const std::string name = path.filename().string();
  if (auto ok = EnsureDirs(root_, fs::path(std::string(key)).parent_path()); !ok) return std::unexpected(ok.error());

  auto blob = MakeTemp(dir, name);
  if (!blob) return std::unexpected(blob.error());
  std::uint64_t size = 0;
  auto sha = fill((*blob)->fd(), (*blob)->path(), size);
  if (!sha) return std::unexpected(sha.error());
  if (!options.sha256.empty() && *sha != options.sha256)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("blob {}: the bytes hash to {}, not the expected {}; nothing stored", key, *sha,
                            options.sha256));
  if (auto ok = (*blob)->SyncAndClose(); !ok) return std::unexpected(ok.error());

  if (auto ok = WriteMeta(path, options.content_type, *sha); !ok) return std::unexpected(ok.error());
  if (::rename((*blob)->path().c_str(), path.c_str()) != 0)
    return Fail(ErrorCode::kInternal, fmt::format("cannot rename into {}: {}", path.string(), ErrnoText(errno)));
  (*blob)->Release();
  if (auto ok = SyncDir(dir); !ok) return std::unexpected(ok.error());
  return BlobInfo{std::string(key), size, options.content_type, *sha};
}

base::Result<BlobInfo> FilesystemBlobStore::Put(std::string_view key, std::string_view bytes,
                                                const PutOptions& options) {
  return WriteBlob(key, options, [bytes](int fd, const fs::path& tmp, std::uint64_t& size) -> base::Result<std::string> {
    if (auto ok = WriteAll(fd, bytes, tmp); !ok) return std::unexpected(ok.error());
    size = bytes.size();
    return base::Sha256Hex(bytes);
  });
}

base::Result<BlobInfo> FilesystemBlobStore::PutFile(std::string_view key, const fs::path& file,
                                                    const PutOptions& options) {
  int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                fmt::format("cannot open {}: {}", file.string(), ErrnoText(errno)));
  auto result = WriteBlob(key, options, [&](int fd, const fs::path& tmp, std::uint64_t& size) -> base::Result<std::string> {
    base::Sha256 hash;
    std::vector<char> buf(kChunk);
    while (true) {
      ssize_t n = ::read(in, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrorCode::kInternal, fmt::format("cannot read {}: {}", file.string(), ErrnoText(errno)));
      if (n == 0) break;
      std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
      hash.Update(chunk);
      if (auto ok = WriteAll(fd, chunk, tmp); !ok) return std::unexpected(ok.error());
      size += chunk.size();
    }
    return base::ToHex(hash.Finish());
  });
  ::close(in);
  return result;
}

// Hashed (the sidecar keeps the SHA-256), synced and renamed into place:
// one read of the file instead of a read and a write. Another filesystem
// (EXDEV): copied, then removed.
base::Result<BlobInfo> FilesystemBlobStore::PutFileMove(std::string_view key, const fs::path& file,
                                                        const PutOptions& options) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (auto ok = ValidatePutOptions(options); !ok) return std::unexpected(ok.error());
  const fs::path path = PathOf(key);
  const fs::path dir = path.parent_path();
  if (auto ok = EnsureDirs(root_, fs::path(std::string(key)).parent_path()); !ok) return std::unexpected(ok.error());
  auto sha = Sha256OfFile(file);
  if (!sha) return std::unexpected(sha.error());
  if (!options.sha256.empty() && *sha != options.sha256)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("blob {}: the bytes hash to {}, not the expected {}; nothing stored", key, *sha,
                            options.sha256));
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Fail(ErrorCode::kNotFound, fmt::format("cannot open {}: {}", file.string(), ErrnoText(errno)));
  struct stat st {};
  const bool synced = ::fstat(fd, &st) == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Fail(ErrorCode::kInternal, fmt::format("cannot sync {}: {}", file.string(), ErrnoText(errno)));

  if (auto ok = WriteMeta(path, options.content_type, *sha); !ok) return std::unexpected(ok.error());
  if (::rename(file.c_str(), path.c_str()) != 0) {
    if (errno == EXDEV) return BlobStore::PutFileMove(key, file, options);
    return Fail(ErrorCode::kInternal, fmt::format("cannot rename {} into {}: {}", file.string(), path.string(),
                                                  ErrnoText(errno)));
  }
  if (auto ok = SyncDir(dir); !ok) return std::unexpected(ok.error());
  return BlobInfo{std::string(key), static_cast<std::uint64_t>(st.st_size), options.content_type, *sha};
}

base::Result<BlobInfo> FilesystemBlobStore::GetTo(std::string_view key, const BlobSink& sink) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  const fs::path path = PathOf(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Fail(ErrorCode::kNotFound, fmt::format("no blob '{}'", key));
    return Fail(ErrorCode::kInternal, fmt::format("cannot open {}: {}", path.string(), ErrnoText(errno)));
  }
  Meta meta = ReadMeta(path);
  BlobInfo info{std::string(key), 0, meta.content_type, meta.sha256};
  // A buffer the size of the blob (up to kChunk), not zero-filled: most
  // blobs are images of tens of KB, read whole in one call.
  struct stat st {};
  const std::size_t want = ::fstat(fd, &st) == 0 && st.st_size >= 0
                               ? std::clamp<std::size_t>(static_cast<std::size_t>(st.st_size) + 1, 4096, kChunk)
                               : kChunk;
  std::unique_ptr<char[]> storage(new char[want]);
  const std::span<char> buf(storage.get(), want);
  base::Result<void> status;
  while (status) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Fail(ErrorCode::kInternal, fmt::format("cannot read {}: {}", path.string(), ErrnoText(errno)));
      break;
    }
    if (n == 0) break;
    info.size += static_cast<std::uint64_t>(n);
    status = sink(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  if (!status) return std::unexpected(status.error());
  return info;
}

base::Result<BlobInfo> FilesystemBlobStore::Head(std::string_view key) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  const fs::path path = PathOf(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Fail(ErrorCode::kNotFound, fmt::format("no blob '{}'", key));
    return Fail(ErrorCode::kInternal, fmt::format("cannot stat {}: {}", path.string(), ErrnoText(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Fail(ErrorCode::kNotFound, fmt::format("no blob '{}' (a directory)", key));
  Meta meta = ReadMeta(path);
  return BlobInfo{std::string(key), static_cast<std::uint64_t>(st.st_size), meta.content_type, meta.sha256};
}

std::string FilesystemBlobStore::LinkSignature(std::string_view key, std::string_view expires) const {
  return HmacSha256Hex(signing_key_, fmt::format("GET\n{}\n{}", key, expires));
}

base::Result<std::string> FilesystemBlobStore::PresignGetAt(std::string_view key, std::chrono::seconds expires_in,
                                                            std::chrono::system_clock::time_point now) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (expires_in.count() <= 0) return Fail(ErrorCode::kInvalidArgument, "a presigned link must expire in the future");
  const std::string expires = std::to_string(UnixSeconds(now) + expires_in.count());
  return fmt::format("{}{}?expires={}&signature={}", url_prefix_, key, expires, LinkSignature(key, expires));
}

base::Result<void> FilesystemBlobStore::VerifyPresigned(std::string_view key, std::string_view expires,
                                                        std::string_view signature,
                                                        std::chrono::system_clock::time_point now) const {
  if (auto ok = ValidateKey(key); !ok) return ok;
  auto expires_at = ParseUnixSeconds(expires);
  if (!expires_at) return std::unexpected(expires_at.error());
  if (!ConstantTimeEquals(LinkSignature(key, expires), signature))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("the link to blob '{}' has a wrong signature", key));
  if (UnixSeconds(now) > *expires_at)
    return Fail(ErrorCode::kFailedPrecondition, fmt::format("the link to blob '{}' expired at {}", key, *expires_at));
  return {};
}

base::Result<std::string> LoadOrCreateSigningKey(const fs::path& file) {
  auto read = [&]() -> base::Result<std::string> {
    std::ifstream in(file);
    std::string key;
    in >> key;
    if (key.size() < kMinSigningKeyLength)
      return Fail(ErrorCode::kFailedPrecondition,
                  fmt::format("the signing key in {} is shorter than {} characters; remove the file to make a new one",
                              file.string(), kMinSigningKeyLength));
    return key;
  };
  std::error_code ec;
  if (fs::exists(file, ec)) return read();
  fs::create_directories(file.parent_path(), ec);
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Fail(ErrorCode::kInternal, "OpenSSL could not make random bytes");
  auto tmp = MakeTemp(file.parent_path(), file.filename().string());
  if (!tmp) return std::unexpected(tmp.error());
  ::fchmod((*tmp)->fd(), 0600);
  const std::string key = HexOf(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  if (auto ok = WriteAll((*tmp)->fd(), key + "\n", (*tmp)->path()); !ok) return std::unexpected(ok.error());
  if (auto ok = (*tmp)->SyncAndClose(); !ok) return std::unexpected(ok.error());
  // link() never replaces: if another process made the key first, use theirs.
  if (::link((*tmp)->path().c_str(), file.c_str()) != 0 && errno != EEXIST)
    return Fail(ErrorCode::kInternal, fmt::format("cannot create {}: {}", file.string(), ErrnoText(errno)));
  return read();
}

}  // namespace furrsight::workers
