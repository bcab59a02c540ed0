#include "workers/storage/blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "events/base/sha256.hpp"

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;

inline constexpr std::size_t kFileChunk = 1 << 20;

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

std::string ContentKey(std::string_view sha256_hex) {
  return fmt::format("sha256/{}/{}/{}", sha256_hex.substr(0, 2), sha256_hex.substr(2, 2), sha256_hex);
}

base::Result<void> ValidateKey(std::string_view key) {
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, "blob key is empty");
  if (key.size() > kMaxKeyLength)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("blob key is {} bytes long; the limit is {}", key.size(), kMaxKeyLength));
  std::size_t start = 0;
  while (true) {
    std::size_t slash = key.find('/', start);
    std::string_view segment = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (segment.empty())
      return Fail(ErrorCode::kInvalidArgument, fmt::format("blob key '{}' has an empty path segment", key));
    if (segment.size() > kMaxKeySegmentLength)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("blob key '{}' has a segment longer than {} bytes", key,
                                                           kMaxKeySegmentLength));
    if (segment.front() == '.')
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("blob key '{}' has a segment starting with '.' (reserved)", key));
    for (char c : segment)
      if (!IsKeyChar(c))
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("blob key '{}' has a character outside [A-Za-z0-9._-/]", key));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

base::Result<void> ValidatePutOptions(const PutOptions& options) {
  if (options.content_type.empty() || options.content_type.size() > 255)
    return Fail(ErrorCode::kInvalidArgument, "content type must be 1 to 255 characters");
  for (char c : options.content_type)
    if (c < 0x20 || c > 0x7e)
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("content type '{}' has a character outside printable ASCII", options.content_type));
  if (options.sha256.empty()) return {};
  bool hex = options.sha256.size() == 64;
  for (char c : options.sha256) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("sha256 '{}' is not 64 lower-case hex digits", options.sha256));
  return {};
}

base::Result<std::string> Sha256OfFile(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                fmt::format("cannot open {}: {}", file.string(), ErrnoText(errno)));
  base::Sha256 hash;
  std::vector<char> buf(kFileChunk);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Fail(ErrorCode::kInternal, fmt::format("cannot read {}: {}", file.string(), ErrnoText(err)));
    }
    if (n == 0) break;
    hash.Update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return base::ToHex(hash.Finish());
}

base::Result<std::string> BlobStore::Get(std::string_view key) {
  std::string out;
  auto info = GetTo(key, [&out](std::string_view chunk) -> base::Result<void> {
    out.append(chunk);
    return {};
  });
  if (!info) return std::unexpected(info.error());
  return out;
}

base::Result<BlobInfo> BlobStore::PutFileMove(std::string_view key, const std::filesystem::path& file,
                                              const PutOptions& options) {
  auto stored = PutFile(key, file, options);
  if (stored) {
    std::error_code ec;
    std::filesystem::remove(file, ec);
  }
  return stored;
}

base::Result<BlobInfo> BlobStore::GetToFile(std::string_view key, const std::filesystem::path& file) {
  const std::filesystem::path part = file.string() + ".part";
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("cannot create {}: {}", part.string(), ErrnoText(errno)));
  auto info = GetTo(key, [&](std::string_view chunk) -> base::Result<void> {
    while (!chunk.empty()) {
      ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrorCode::kInternal, fmt::format("cannot write {}: {}", part.string(), ErrnoText(errno)));
      chunk.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
  });
  bool synced = info.has_value() && ::fsync(fd) == 0;
  int sync_errno = errno;
  ::close(fd);
  if (!info || !synced) {
    std::error_code ec;
    std::filesystem::remove(part, ec);
    if (!info) return std::unexpected(info.error());
    return Fail(ErrorCode::kInternal, fmt::format("cannot fsync {}: {}", part.string(), ErrnoText(sync_errno)));
  }
  std::error_code ec;
  std::filesystem::rename(part, file, ec);
  if (ec) {
    std::filesystem::remove(part, ec);
    return Fail(ErrorCode::kInternal, fmt::format("cannot rename {} into place: {}", part.string(), ec.message()));
  }
  return info;
}

base::Result<std::string> BlobStore::PresignGet(std::string_view key, std::chrono::seconds expires_in) {
  return PresignGetAt(key, expires_in, std::chrono::system_clock::now());
}

base::Result<BlobInfo> BlobStore::PutContent(std::string_view bytes, std::string_view content_type) {
  const std::string sha = base::Sha256Hex(bytes);
  const std::string key = ContentKey(sha);
  if (auto existing = Head(key); existing && existing->size == bytes.size()) return existing;
  return Put(key, bytes, {.content_type = std::string(content_type), .sha256 = sha});
}

base::Result<BlobInfo> BlobStore::PutFileContent(const std::filesystem::path& file, std::string_view content_type) {
  auto sha = Sha256OfFile(file);
  if (!sha) return std::unexpected(sha.error());
  const std::string key = ContentKey(*sha);
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (auto existing = Head(key); existing && !ec && existing->size == size) return existing;
  // The store re-checks the hash while it reads, so a file changed after
  // hashing is refused rather than stored under the wrong key.
  return PutFile(key, file, {.content_type = std::string(content_type), .sha256 = *sha});
}

}  // namespace furrsight::workers
