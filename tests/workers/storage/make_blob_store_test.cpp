#include <gtest/gtest.h>

#include "events/base/config.hpp"
#include "events/base/sha256.hpp"
#include "tests/workers/storage/temp_dir.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {
namespace {

namespace fs = std::filesystem;
using base::Config;
using base::ErrorCode;

TEST(MakeBlobStore, DefaultsToFilesUnderTheDataDirWithAKeptSigningKey) {
  testing::TempDir dir("mkblob");
  auto config = Config::WithOverrides({{"data_dir", dir.path().string()}});
  auto store = MakeBlobStore(config);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto put = (*store)->PutContent("bytes", "image/jpeg");
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_TRUE(fs::is_regular_file(dir / ("blobs/" + put->key)));
  ASSERT_TRUE(fs::is_regular_file(dir / "blobs/.signing-key"));

  // A second store over the same directory signs links the same way.
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  auto again = MakeBlobStore(config);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*(*store)->PresignGetAt("k", std::chrono::seconds(60), now),
            *(*again)->PresignGetAt("k", std::chrono::seconds(60), now));
}

TEST(MakeBlobStore, BlobDirAndSigningKeyOverrideTheDefaults) {
  testing::TempDir dir("mkblob");
  auto store = MakeBlobStore(Config::WithOverrides(
      {{"blob_dir", (dir / "elsewhere").string()}, {"blob_signing_key", "a-configured-key-of-enough-bytes"}}));
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto put = (*store)->Put("k", "v", {});
  ASSERT_TRUE(put.has_value());
  EXPECT_TRUE(fs::is_regular_file(dir / "elsewhere/k"));
  EXPECT_FALSE(fs::exists(dir / "elsewhere/.signing-key"));
}

TEST(MakeBlobStore, S3NeedsAnEndpointAndCredentials) {
  auto store = MakeBlobStore(Config::WithOverrides({{"blob_store", "s3"}}));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("s3_endpoint"), std::string::npos);

  auto ok = MakeBlobStore(Config::WithOverrides({{"blob_store", "s3"},
                                                 {"s3_endpoint", "http://127.0.0.1:9000"},
                                                 {"s3_access_key", "ak"},
                                                 {"s3_secret_key", "sk"}}));
  EXPECT_TRUE(ok.has_value()) << ok.error().ToString();
}

TEST(MakeBlobStore, UnknownKindIsRefused) {
  auto store = MakeBlobStore(Config::WithOverrides({{"blob_store", "tape"}}));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(store.error().message.find("tape"), std::string::npos);
}

TEST(BlobSettings, DescribeHidesSecretsButShowsTheRest) {
  auto config = Config::WithOverrides({{"s3_secret_key", "wJalrXUtnFEMI/K7MDENG"},
                                       {"blob_signing_key", "my-signing-key-0123456789"},
                                       {"s3_access_key", "AKIAEXAMPLE"}});
  bool saw_secret_line = false;
  for (const auto& line : config.Describe()) {
    EXPECT_EQ(line.find("wJalrXUtnFEMI"), std::string::npos) << line;
    EXPECT_EQ(line.find("my-signing-key"), std::string::npos) << line;
    if (line.starts_with("s3_secret_key")) {
      saw_secret_line = true;
      EXPECT_NE(line.find("***"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(saw_secret_line);
  // An empty secret is shown as empty (nothing to hide), an access key as it is.
  auto lines = Config::WithOverrides({{"s3_access_key", "AKIAEXAMPLE"}}).Describe();
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.starts_with("s3_access_key") && l.find("AKIAEXAMPLE") != std::string::npos;
  }));
}

}  // namespace
}  // namespace furrsight::workers
