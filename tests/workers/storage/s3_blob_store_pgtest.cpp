// S3BlobStore against a real S3 server: the s3rver that `furrsight services
// run` starts (FURRSIGHT_TEST_S3_*). s3rver enforces presigned URLs' expiry
// (X-Amz-Date + X-Amz-Expires) but checks neither signatures nor payload
// hashes, and serves anonymous GETs (no access control); s3_request_test.cpp
// checks the signatures.
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "events/base/sha256.hpp"
#include "tests/workers/storage/temp_dir.hpp"
#include "workers/storage/s3_blob_store.hpp"

namespace furrsight::workers {
namespace {

namespace fs = std::filesystem;
using base::ErrorCode;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << name << " is not set: run this test through `furrsight services run`";
    return {};
  }
  return v;
}

S3Options HarnessOptions(std::string bucket) {
  return {.endpoint = Env("FURRSIGHT_TEST_S3_ENDPOINT"),
          .bucket = std::move(bucket),
          .region = Env("FURRSIGHT_TEST_S3_REGION"),
          .access_key = Env("FURRSIGHT_TEST_S3_ACCESS_KEY"),
          .secret_key = Env("FURRSIGHT_TEST_S3_SECRET_KEY")};
}

struct Fetched {
  long status = 0;
  std::string body;
};

// A plain GET, as a browser following a presigned link would make it.
Fetched PlainGet(const std::string& url) {
  Fetched out;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* d, std::size_t s, std::size_t n, void* u) {
    static_cast<std::string*>(u)->append(d, s * n);
    return s * n;
  });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(c);
  return out;
}

long PeakRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

class S3BlobStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto store = S3BlobStore::Create(HarnessOptions(fmt::format("furrsight-s3test-{}", ::getpid())));
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    auto created = (*store)->CreateBucket();
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
    store_ = store->release();
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  static S3BlobStore* store_;
};
S3BlobStore* S3BlobStoreTest::store_ = nullptr;

// First, so that the peak RSS before it is not already raised by other tests.
TEST_F(S3BlobStoreTest, LargeFileIsStreamedBothWaysWithoutBeingLoaded) {
  constexpr std::size_t kMiB = 1 << 20, kSize = 20 * kMiB;
  testing::TempDir dir("s3big");
  const fs::path source = dir / "export.tar";
  {
    std::ofstream out(source, std::ios::binary);
    std::string chunk(kMiB, '\0');
    for (std::size_t i = 0; i < kSize / kMiB; ++i) {
      for (std::size_t j = 0; j < kMiB; ++j) chunk[j] = static_cast<char>((i * 7 + j * 13) % 251);
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
  }
  const long rss_before = PeakRssKb();
  auto put = store_->PutFile("exports/big.tar", source, {.content_type = "application/x-tar"});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  const fs::path copy = dir / "copy.tar";
  auto got = store_->GetToFile("exports/big.tar", copy);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  const long grown_kb = PeakRssKb() - rss_before;

  EXPECT_EQ(put->size, kSize);
  EXPECT_EQ(got->size, kSize);
  EXPECT_EQ(fs::file_size(copy), kSize);
  EXPECT_EQ(*Sha256OfFile(copy), *Sha256OfFile(source));
  EXPECT_EQ(got->sha256, put->sha256);
  // 20 MiB went up and came back; the process's peak memory grew by far less.
  EXPECT_LT(grown_kb, 8 * 1024) << "peak RSS grew by " << grown_kb << " KiB";
}

TEST_F(S3BlobStoreTest, PutGetHeadRoundTrip) {
  auto put = store_->Put("images/x.jpg", "jpeg bytes", {.content_type = "image/jpeg"});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  auto got = store_->Get("images/x.jpg");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, "jpeg bytes");
  auto head = store_->Head("images/x.jpg");
  ASSERT_TRUE(head.has_value()) << head.error().ToString();
  EXPECT_EQ(head->size, 10u);
  EXPECT_EQ(head->content_type, "image/jpeg");
  EXPECT_EQ(head->sha256, base::Sha256Hex("jpeg bytes"));
}

TEST_F(S3BlobStoreTest, PutReplacesAnObject) {
  ASSERT_TRUE(store_->Put("replace/me", "first", {}).has_value());
  ASSERT_TRUE(store_->Put("replace/me", "second version", {.content_type = "text/plain"}).has_value());
  EXPECT_EQ(*store_->Get("replace/me"), "second version");
  EXPECT_EQ(store_->Head("replace/me")->content_type, "text/plain");
}

TEST_F(S3BlobStoreTest, ContentAddressedPutIsIdempotent) {
  auto first = store_->PutContent("a groomed schnauzer", "image/webp");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->key, ContentKey(base::Sha256Hex("a groomed schnauzer")));
  auto second = store_->PutContent("a groomed schnauzer", "image/webp");
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->key, first->key);
  EXPECT_EQ(second->sha256, first->sha256);
  EXPECT_EQ(*store_->Get(first->key), "a groomed schnauzer");
}

TEST_F(S3BlobStoreTest, MissingObjectIsNotFoundWithS3sCode) {
  auto got = store_->Get("no/such/object");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_NE(got.error().message.find("HTTP 404 NoSuchKey"), std::string::npos) << got.error().message;
  EXPECT_NE(got.error().message.find("no/such/object"), std::string::npos) << got.error().message;
  auto head = store_->Head("no/such/object");
  ASSERT_FALSE(head.has_value());
  EXPECT_EQ(head.error().code, ErrorCode::kNotFound);
}

TEST_F(S3BlobStoreTest, MissingBucketIsNotFoundWithS3sCode) {
  auto other = S3BlobStore::Create(HarnessOptions("furrsight-no-such-bucket"));
  ASSERT_TRUE(other.has_value());
  auto got = (*other)->Get("k");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_NE(got.error().message.find("NoSuchBucket"), std::string::npos) << got.error().message;
}

TEST_F(S3BlobStoreTest, HarnessBucketExistsAndCreateBucketIsIdempotent) {
  auto harness = S3BlobStore::Create(HarnessOptions(Env("FURRSIGHT_TEST_S3_BUCKET")));
  ASSERT_TRUE(harness.has_value());
  auto put = (*harness)->Put("probe", "ok", {});
  EXPECT_TRUE(put.has_value()) << put.error().ToString();
  auto again = store_->CreateBucket();
  EXPECT_TRUE(again.has_value()) << again.error().ToString();
}

TEST_F(S3BlobStoreTest, PresignedGetWorksWithoutCredentials) {
  ASSERT_TRUE(store_->Put("shared/pair.jpg", "pair bytes", {.content_type = "image/jpeg"}).has_value());
  auto url = store_->PresignGet("shared/pair.jpg", std::chrono::seconds(300));
  ASSERT_TRUE(url.has_value()) << url.error().ToString();
  Fetched fetched = PlainGet(*url);
  EXPECT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_EQ(fetched.body, "pair bytes");
  // (s3rver serves unsigned GETs too: it has no access control, so this
  // cannot show that the link is what grants access.)
}

TEST_F(S3BlobStoreTest, ExpiredPresignedGetIsRefused) {
  ASSERT_TRUE(store_->Put("shared/old.jpg", "old", {}).has_value());
  // Signed an hour ago for one minute.
  auto url = store_->PresignGetAt("shared/old.jpg", std::chrono::seconds(60),
                                  std::chrono::system_clock::now() - std::chrono::hours(1));
  ASSERT_TRUE(url.has_value());
  Fetched fetched = PlainGet(*url);
  EXPECT_EQ(fetched.status, 403);
  EXPECT_NE(fetched.body.find("AccessDenied"), std::string::npos) << fetched.body;
  EXPECT_NE(fetched.body.find("Request has expired"), std::string::npos) << fetched.body;
}

TEST_F(S3BlobStoreTest, PresignedGetStopsWorkingWhenItsTimeIsUp) {
  ASSERT_TRUE(store_->Put("shared/brief.jpg", "brief", {}).has_value());
  // X-Amz-Date has whole seconds, so a link's life is its expiry minus up to
  // a second: 3 s leaves the first fetch 2 s even on a loaded machine.
  auto url = store_->PresignGet("shared/brief.jpg", std::chrono::seconds(3));
  ASSERT_TRUE(url.has_value());
  Fetched now = PlainGet(*url);
  EXPECT_EQ(now.status, 200) << now.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(4100));
  Fetched later = PlainGet(*url);
  EXPECT_EQ(later.status, 403) << later.body;
}

TEST_F(S3BlobStoreTest, UploadWhoseBytesDoNotMatchTheGivenHashFails) {
  testing::TempDir dir("s3hash");
  const fs::path file = dir / "f.bin";
  std::ofstream(file) << "actual bytes";
  auto put = store_->PutFile("mismatch/f.bin", file, {.sha256 = base::Sha256Hex("claimed bytes")});
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(put.error().message.find("hash"), std::string::npos) << put.error().message;
}

}  // namespace
}  // namespace furrsight::workers
