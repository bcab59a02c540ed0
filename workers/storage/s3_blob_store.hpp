// S3BlobStore: blobs as objects of one bucket of S3-compatible storage
// (AWS S3, MinIO; s3rver in the tests). Path-style URLs:
// <endpoint>/<bucket>/<key>. Requests go through libcurl, signed by libcurl
// itself (CURLOPT_AWS_SIGV4, "aws:amz:<region>:s3") with an
// x-amz-content-sha256 header carrying the payload's real hash, so a server
// that checks payloads (AWS, MinIO) refuses bytes damaged on the way.
// Presigned GET URLs are signed here (sigv4.hpp): libcurl cannot presign.
//
// Each object also carries x-amz-meta-sha256 (its hex SHA-256), which Head
// and Get report. Uploads are single PUTs, so an object is at most 5 GiB
// (kMaxSinglePut); multipart upload is not implemented.
//
// Errors: kNotFound (404: NoSuchKey, NoSuchBucket), kFailedPrecondition
// (401/403: credentials or signature refused), kInvalidArgument (other 4xx),
// kUnavailable (5xx, connection refused), kTimeout (no progress for
// stall_timeout); each message names the method, the object, the HTTP
// status and S3's error code and message.
//
// Thread-safe: immutable after Create, and every call uses its own curl
// handle (no connection reuse between calls).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "workers/storage/blob_store.hpp"
#include "workers/storage/sigv4.hpp"

namespace furrsight::workers {

inline constexpr std::uint64_t kMaxSinglePut = 5ull << 30;

struct S3Options {
  std::string endpoint;  // scheme://host[:port], e.g. http://127.0.0.1:9000
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  std::chrono::seconds connect_timeout{10};
  // A transfer that moves no byte for this long is abandoned (kTimeout);
  // there is no limit on a transfer that keeps moving (large exports).
  std::chrono::seconds stall_timeout{60};
};

class S3BlobStore final : public BlobStore {
 public:
  // Checks the options (endpoint form, bucket name, credentials present);
  // contacts nothing.
  static base::Result<std::unique_ptr<S3BlobStore>> Create(S3Options options);

  // Creates the bucket; success if it already exists and is ours. For the
  // test harness, `furrsight dev` and first-time setup.
  base::Result<void> CreateBucket();

  base::Result<BlobInfo> Put(std::string_view key, std::string_view bytes, const PutOptions& options) override;
  base::Result<BlobInfo> PutFile(std::string_view key, const std::filesystem::path& file,
                                 const PutOptions& options) override;
  base::Result<BlobInfo> GetTo(std::string_view key, const BlobSink& sink) override;
  base::Result<BlobInfo> Head(std::string_view key) override;
  // Valid for 1 s to 7 days (S3's limit).
  base::Result<std::string> PresignGetAt(std::string_view key, std::chrono::seconds expires_in,
                                         std::chrono::system_clock::time_point now) override;

  const S3Options& options() const { return options_; }

 private:
  explicit S3BlobStore(S3Options options);
  std::string ObjectPath(std::string_view key) const;  // "/bucket/key"

  const S3Options options_;
  const sigv4::Credentials credentials_;
};

}  // namespace furrsight::workers
