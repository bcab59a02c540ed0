// MakeBlobStore: the one place that turns settings into a BlobStore
// (declared in blob_store.hpp; docs/storage.md lists the settings).
#include <fmt/format.h>

#include "workers/storage/blob_store.hpp"
#include "workers/storage/filesystem_blob_store.hpp"
#include "workers/storage/s3_blob_store.hpp"

namespace furrsight::workers {

base::Result<std::unique_ptr<BlobStore>> MakeBlobStore(const base::Config& config) {
  const std::string& kind = config.Get("blob_store");
  if (kind == "file") {
    std::filesystem::path root = config.Get("blob_dir");
    if (root.empty()) root = std::filesystem::path(config.Get("data_dir")) / "blobs";
    std::string key = config.Get("blob_signing_key");
    if (key.empty()) {
      auto kept = LoadOrCreateSigningKey(root / ".signing-key");
      if (!kept) return std::unexpected(kept.error());
      key = *kept;
    }
    auto store = FilesystemBlobStore::Open({.root = root, .signing_key = key});
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<BlobStore>(std::move(*store));
  }
  if (kind == "s3") {
    auto store = S3BlobStore::Create({.endpoint = config.Get("s3_endpoint"),
                                      .bucket = config.Get("s3_bucket"),
                                      .region = config.Get("s3_region"),
                                      .access_key = config.Get("s3_access_key"),
                                      .secret_key = config.Get("s3_secret_key")});
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<BlobStore>(std::move(*store));
  }
  return base::Fail(base::ErrorCode::kInvalidArgument,
                    fmt::format("blob_store must be 'file' or 's3', not '{}'", kind));
}

}  // namespace furrsight::workers
