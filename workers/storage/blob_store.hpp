// BlobStore: where FurrSight keeps bytes that are not events — downloaded
// images and dataset exports. One small interface (the LevelDB `Env` idea),
// two backends: FilesystemBlobStore (the embedded default) and S3BlobStore
// (MinIO, AWS). docs/storage.md describes both.
//
// Keys are relative paths of plain characters: segments of [A-Za-z0-9._-]
// separated by '/', no empty segment and none starting with '.', at most
// kMaxKeyLength bytes and kMaxKeySegmentLength per segment (ValidateKey).
// Content-addressed blobs live under ContentKey(sha256) = "sha256/ab/cd/abcd…",
// so putting the same bytes twice is one blob (invariant 7: a repeated
// attempt stores no duplicate).
//
// Every expected failure is a base::Error: kNotFound for a missing blob,
// kInvalidArgument for a bad key or a hash mismatch, kUnavailable/kTimeout
// when the backend cannot be reached. Implementations are thread-safe: one
// store may be used by many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "events/base/config.hpp"
#include "events/base/error.hpp"

namespace furrsight::workers {

inline constexpr std::size_t kMaxKeyLength = 1024;
inline constexpr std::size_t kMaxKeySegmentLength = 200;  // leaves room for the sidecar and temporary names
inline constexpr std::string_view kDefaultContentType = "application/octet-stream";

struct BlobInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string content_type;
  std::string sha256;  // hex; empty when the backend does not know it
};

struct PutOptions {
  std::string content_type = std::string(kDefaultContentType);
  // Hex SHA-256 of the bytes, if the caller knows it. The store then refuses
  // (kInvalidArgument, nothing stored) bytes that do not hash to it.
  std::string sha256;
};

// Receives a blob's bytes in order, chunk by chunk; an error stops the read.
using BlobSink = std::function<base::Result<void>(std::string_view chunk)>;

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Stores `bytes` under `key`, replacing what was there. The new blob is
  // visible whole or not at all.
  virtual base::Result<BlobInfo> Put(std::string_view key, std::string_view bytes, const PutOptions& options) = 0;
  // Same, streaming from a file (never loaded whole into memory).
  virtual base::Result<BlobInfo> PutFile(std::string_view key, const std::filesystem::path& file,
                                         const PutOptions& options) = 0;
  // Stores the bytes of `file` under `key` and consumes the file (gone on
  // success): the file store renames it into place when it is on the same
  // filesystem; otherwise, and for S3, it is copied, then removed.
  virtual base::Result<BlobInfo> PutFileMove(std::string_view key, const std::filesystem::path& file,
                                             const PutOptions& options);
  // Streams the blob to `sink`; kNotFound if there is none.
  virtual base::Result<BlobInfo> GetTo(std::string_view key, const BlobSink& sink) = 0;
  // Size and content type without the bytes; kNotFound if there is none.
  virtual base::Result<BlobInfo> Head(std::string_view key) = 0;
  // A URL that lets its holder GET the blob until now + expires_in, without
  // credentials. Does not check that the blob exists.
  virtual base::Result<std::string> PresignGetAt(std::string_view key, std::chrono::seconds expires_in,
                                                 std::chrono::system_clock::time_point now) = 0;

  // Conveniences over the virtual functions above.
  base::Result<std::string> Get(std::string_view key);
  // Downloads to `file` through `file`.part, renamed into place when complete.
  base::Result<BlobInfo> GetToFile(std::string_view key, const std::filesystem::path& file);
  base::Result<std::string> PresignGet(std::string_view key, std::chrono::seconds expires_in);

  // Content-addressed puts: the key is ContentKey(sha256 of the bytes). When
  // a blob of that key and size is already there, nothing is written.
  base::Result<BlobInfo> PutContent(std::string_view bytes, std::string_view content_type);
  base::Result<BlobInfo> PutFileContent(const std::filesystem::path& file, std::string_view content_type);
};

// "sha256/ab/cd/abcd…" for a 64-character lower-case hex digest.
std::string ContentKey(std::string_view sha256_hex);
base::Result<void> ValidateKey(std::string_view key);
// Checks what a put is given: a content type is printable ASCII (it becomes
// an HTTP header), a sha256 is empty or 64 lower-case hex digits.
base::Result<void> ValidatePutOptions(const PutOptions& options);
// Hex SHA-256 of a file, read in chunks.
base::Result<std::string> Sha256OfFile(const std::filesystem::path& file);

// The store the settings ask for (blob_store = file | s3; docs/storage.md).
base::Result<std::unique_ptr<BlobStore>> MakeBlobStore(const base::Config& config);

}  // namespace furrsight::workers
