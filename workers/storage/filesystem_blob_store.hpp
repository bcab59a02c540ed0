// FilesystemBlobStore: blobs as files under one root directory, the embedded
// default (`furrsight dev` keeps them in <data_dir>/blobs).
//
// Layout: the blob of key K is the file <root>/K; its content type and
// SHA-256 are in the sidecar <root>/<dir of K>/.<name of K>.meta. Keys never
// have a segment starting with '.', so neither sidecars nor temporary files
// (".<name>.tmp-XXXXXX") can collide with a blob.
//
// Writes are atomic: bytes go to a temporary file in the blob's directory,
// are fsynced, renamed over the blob and the directory is fsynced, so a
// reader (or a crash) sees the old blob or the new one, never a part. The
// sidecar is replaced the same way just before the blob; a blob and its type
// are each atomic, not the pair (last writer wins on both).
//
// Presigned GET: the filesystem cannot serve HTTP, so PresignGetAt returns a
// path the REST API serves,
//   <url_prefix><key>?expires=<unix seconds>&signature=<hex HMAC-SHA256>
// where the HMAC, keyed with `signing_key`, covers "GET\n<key>\n<expires>".
// The API checks a request with VerifyPresigned before sending the bytes.
//
// Thread-safe; several processes may share one root (renames are atomic).
// The object owns no open files between calls.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {

inline constexpr std::string_view kBlobUrlPrefix = "/api/v1/blobs/";

struct FilesystemBlobStoreOptions {
  std::filesystem::path root;  // created if missing
  std::string signing_key;     // HMAC key of presigned links; at least 16 bytes
  std::string url_prefix = std::string(kBlobUrlPrefix);
};

class FilesystemBlobStore final : public BlobStore {
 public:
  static base::Result<std::unique_ptr<FilesystemBlobStore>> Open(FilesystemBlobStoreOptions options);

  base::Result<BlobInfo> Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  base::Result<BlobInfo> PutFile(std::string_view key, const std::filesystem::path& file,
                                 const PutOptions& options) override;
  base::Result<BlobInfo> PutFileMove(std::string_view key, const std::filesystem::path& file,
                                     const PutOptions& options) override;
  base::Result<BlobInfo> GetTo(std::string_view key, const BlobSink& sink) override;
  base::Result<BlobInfo> Head(std::string_view key) override;
  base::Result<std::string> PresignGetAt(std::string_view key, std::chrono::seconds expires_in,
                                         std::chrono::system_clock::time_point now) override;

  // Checks the `expires` and `signature` query parameters of a presigned
  // link to `key` at time `now`: kInvalidArgument if the signature is not
  // ours for this key and expiry (forged, altered, or another key's),
  // kFailedPrecondition if the link has expired. The API answers 403 to both.
  base::Result<void> VerifyPresigned(std::string_view key, std::string_view expires, std::string_view signature,
                                     std::chrono::system_clock::time_point now) const;

  // Where the blob of `key` is on disk (for the API to send it; valid keys only).
  std::filesystem::path PathOf(std::string_view key) const { return root_ / std::string(key); }
  const std::filesystem::path& root() const { return root_; }

 private:
  explicit FilesystemBlobStore(FilesystemBlobStoreOptions options)
      : root_(std::move(options.root)),
        signing_key_(std::move(options.signing_key)),
        url_prefix_(std::move(options.url_prefix)) {}

  // Writes a blob whose bytes come from `fill` (called with the temporary
  // file's descriptor; returns the hex SHA-256 of what it wrote).
  template <class Fill>
  base::Result<BlobInfo> WriteBlob(std::string_view key, const PutOptions& options, Fill&& fill);
  std::string LinkSignature(std::string_view key, std::string_view expires) const;

  const std::filesystem::path root_;
  const std::string signing_key_;
  const std::string url_prefix_;
};

// Reads the signing key kept in `file`, or creates it (32 random bytes,
// hex, mode 0600) when absent. For blob_signing_key left empty.
base::Result<std::string> LoadOrCreateSigningKey(const std::filesystem::path& file);

}  // namespace furrsight::workers
