#include "workers/storage/filesystem_blob_store.hpp"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "events/base/sha256.hpp"
#include "tests/workers/storage/temp_dir.hpp"

namespace furrsight::workers {
namespace {

namespace fs = std::filesystem;
using base::ErrorCode;
using testing::TempDir;

constexpr std::string_view kSigningKey = "0123456789abcdef0123456789abcdef";

class FilesystemBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = FilesystemBlobStore::Open({.root = dir_.path() / "blobs", .signing_key = std::string(kSigningKey)});
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    store_ = std::move(*opened);
  }

  // Every file under the root whose name is neither a blob nor a sidecar.
  std::vector<std::string> StrayFiles() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(store_->root())) {
      if (!entry.is_regular_file()) continue;
      std::string name = entry.path().filename().string();
      if (name.find(".tmp-") != std::string::npos || name.ends_with(".part")) out.push_back(entry.path().string());
    }
    return out;
  }

  static ino_t InodeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
  }

  TempDir dir_{"fsblob"};
  std::unique_ptr<FilesystemBlobStore> store_;
};

TEST_F(FilesystemBlobStoreTest, PutThenGetReturnsTheBytes) {
  auto put = store_->Put("images/a.jpg", "jpeg bytes", {.content_type = "image/jpeg"});
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_EQ(put->size, 10u);
  EXPECT_EQ(put->sha256, base::Sha256Hex("jpeg bytes"));
  auto got = store_->Get("images/a.jpg");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(*got, "jpeg bytes");
}

TEST_F(FilesystemBlobStoreTest, HeadReportsSizeContentTypeAndHash) {
  ASSERT_TRUE(store_->Put("x/y.png", std::string(1234, 'p'), {.content_type = "image/png"}).has_value());
  auto head = store_->Head("x/y.png");
  ASSERT_TRUE(head.has_value()) << head.error().ToString();
  EXPECT_EQ(head->key, "x/y.png");
  EXPECT_EQ(head->size, 1234u);
  EXPECT_EQ(head->content_type, "image/png");
  EXPECT_EQ(head->sha256, base::Sha256Hex(std::string(1234, 'p')));
}

TEST_F(FilesystemBlobStoreTest, MissingBlobIsNotFound) {
  auto get = store_->Get("no/such/blob");
  ASSERT_FALSE(get.has_value());
  EXPECT_EQ(get.error().code, ErrorCode::kNotFound);
  EXPECT_NE(get.error().message.find("no/such/blob"), std::string::npos);
  auto head = store_->Head("no/such/blob");
  ASSERT_FALSE(head.has_value());
  EXPECT_EQ(head.error().code, ErrorCode::kNotFound);
  // A directory is not a blob either.
  ASSERT_TRUE(store_->Put("dir/file", "x", {}).has_value());
  EXPECT_EQ(store_->Head("dir").error().code, ErrorCode::kNotFound);
}

TEST_F(FilesystemBlobStoreTest, PutContentStoresUnderItsSha256Key) {
  const std::string bytes = "a groomed poodle";
  const std::string sha = base::Sha256Hex(bytes);
  auto put = store_->PutContent(bytes, "image/webp");
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_EQ(put->key, "sha256/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha);
  EXPECT_EQ(put->key, ContentKey(sha));
  EXPECT_TRUE(fs::is_regular_file(store_->root() / put->key));
  EXPECT_EQ(*store_->Get(put->key), bytes);
}

TEST_F(FilesystemBlobStoreTest, PuttingTheSameContentTwiceWritesOnce) {
  auto first = store_->PutContent("same bytes", "image/jpeg");
  ASSERT_TRUE(first.has_value());
  const ino_t inode = InodeOf(store_->PathOf(first->key));
  auto second = store_->PutContent("same bytes", "image/jpeg");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->key, first->key);
  // Every real write renames a new file into place: the same inode means no write.
  EXPECT_EQ(InodeOf(store_->PathOf(first->key)), inode);
  EXPECT_TRUE(StrayFiles().empty());
}

TEST_F(FilesystemBlobStoreTest, PutReplacesABlobByRenameNotInPlace) {
  ASSERT_TRUE(store_->Put("k", "old", {}).has_value());
  std::ifstream reader(store_->PathOf("k"));  // a reader already holding the old blob
  ASSERT_TRUE(store_->Put("k", "new!", {.content_type = "text/plain"}).has_value());
  std::string seen;
  reader >> seen;
  EXPECT_EQ(seen, "old");
  EXPECT_EQ(*store_->Get("k"), "new!");
  EXPECT_EQ(store_->Head("k")->content_type, "text/plain");
}

TEST_F(FilesystemBlobStoreTest, ConcurrentReadersSeeOnlyWholeBlobs) {
  const std::string a(256 * 1024, 'a'), b(300 * 1024, 'b');
  ASSERT_TRUE(store_->Put("flip", a, {}).has_value());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::thread reader([&] {
    while (!stop) {
      auto got = store_->Get("flip");
      if (!got || (*got != a && *got != b)) ++torn;
      ++reads;
    }
  });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store_->Put("flip", i % 2 == 0 ? b : a, {}).has_value());
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
}

TEST_F(FilesystemBlobStoreTest, AtomicWritesLeaveNoTemporaryFiles) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->Put("many/" + std::to_string(i % 5), std::to_string(i), {}));
  EXPECT_TRUE(StrayFiles().empty());
  // Only blobs and their sidecars are left.
  int blobs = 0, sidecars = 0;
  for (const auto& e : fs::recursive_directory_iterator(store_->root())) {
    if (!e.is_regular_file()) continue;
    (e.path().filename().string().ends_with(".meta") ? sidecars : blobs)++;
  }
  EXPECT_EQ(blobs, 5);
  EXPECT_EQ(sidecars, 5);
}

TEST_F(FilesystemBlobStoreTest, WrongExpectedHashIsRefusedAndNothingIsStored) {
  auto put = store_->Put("h/x", "these bytes", {.sha256 = base::Sha256Hex("other bytes")});
  ASSERT_FALSE(put.has_value());
  EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Head("h/x").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(StrayFiles().empty());
}

TEST_F(FilesystemBlobStoreTest, BadKeysAreRefused) {
  for (const std::string& key : std::vector<std::string>{"", "/abs", "a//b", "../up", "a/../b", "a/.hidden", ".x", "a b", "a/", "tab\t",
                          std::string(kMaxKeyLength + 1, 'k'), std::string(kMaxKeySegmentLength + 1, 's')}) {
    auto put = store_->Put(key, "x", {});
    ASSERT_FALSE(put.has_value()) << "key '" << key << "' was accepted";
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument) << key;
  }
  EXPECT_FALSE(store_->Put("ok", "x", {.content_type = "text/plain\r\nX-Injected: 1"}).has_value());
  EXPECT_FALSE(store_->Put("ok", "x", {.sha256 = "ABC"}).has_value());
  EXPECT_TRUE(ValidateKey("exports/2024-05-01/dataset_v1.tar.zst").has_value());
}

TEST_F(FilesystemBlobStoreTest, AKeyBelowAnotherBlobIsAConflict) {
  ASSERT_TRUE(store_->Put("a/b", "blob", {}).has_value());
  auto below = store_->Put("a/b/c", "x", {});
  ASSERT_FALSE(below.has_value());
  EXPECT_EQ(below.error().code, ErrorCode::kConflict);
  EXPECT_EQ(*store_->Get("a/b"), "blob");
  EXPECT_TRUE(StrayFiles().empty());
}

TEST_F(FilesystemBlobStoreTest, PutFileAndGetToFileStreamLargeBlobs) {
  const fs::path source = dir_ / "big.bin";
  {
    std::ofstream out(source, std::ios::binary);
    std::string chunk(1 << 20, '\0');
    for (int i = 0; i < 8; ++i) {
      for (std::size_t j = 0; j < chunk.size(); ++j) chunk[j] = static_cast<char>((i * 131 + j * 7) & 0xff);
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
  }
  auto sha = Sha256OfFile(source);
  ASSERT_TRUE(sha.has_value());
  auto put = store_->PutFileContent(source, "application/octet-stream");
  ASSERT_TRUE(put.has_value()) << put.error().ToString();
  EXPECT_EQ(put->key, ContentKey(*sha));
  EXPECT_EQ(put->size, 8u << 20);

  const fs::path copy = dir_ / "copy.bin";
  auto got = store_->GetToFile(put->key, copy);
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  EXPECT_EQ(got->size, 8u << 20);
  EXPECT_EQ(*Sha256OfFile(copy), *sha);
  EXPECT_FALSE(fs::exists(copy.string() + ".part"));
}

TEST_F(FilesystemBlobStoreTest, GetToFileOfAMissingBlobLeavesNoFile) {
  const fs::path out = dir_ / "out.bin";
  auto got = store_->GetToFile("missing", out);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
}

TEST_F(FilesystemBlobStoreTest, SinkErrorStopsTheRead) {
  ASSERT_TRUE(store_->Put("s", std::string(3 << 20, 'z'), {}).has_value());
  int chunks = 0;
  auto got = store_->GetTo("s", [&](std::string_view) -> base::Result<void> {
    ++chunks;
    return base::Fail(ErrorCode::kInternal, "disk full");
  });
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().message, "disk full");
  EXPECT_EQ(chunks, 1);
}

// Presigned links ---------------------------------------------------------

struct Link {
  std::string key, expires, signature;
};

Link ParseLink(const std::string& url) {
  Link link;
  std::string_view u = url;
  EXPECT_TRUE(u.starts_with(kBlobUrlPrefix)) << url;
  u.remove_prefix(kBlobUrlPrefix.size());
  std::size_t q = u.find('?');
  link.key = std::string(u.substr(0, q));
  std::string_view query = u.substr(q + 1);
  std::size_t amp = query.find('&');
  std::string_view first = query.substr(0, amp), second = query.substr(amp + 1);
  EXPECT_TRUE(first.starts_with("expires=")) << url;
  EXPECT_TRUE(second.starts_with("signature=")) << url;
  link.expires = std::string(first.substr(8));
  link.signature = std::string(second.substr(10));
  return link;
}

TEST_F(FilesystemBlobStoreTest, PresignedLinkVerifiesUntilItExpires) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  auto url = store_->PresignGetAt("exports/d.tar", std::chrono::seconds(600), now);
  ASSERT_TRUE(url.has_value());
  Link link = ParseLink(*url);
  EXPECT_EQ(link.key, "exports/d.tar");
  EXPECT_EQ(link.expires, "1700000600");
  EXPECT_EQ(link.signature.size(), 64u);
  EXPECT_TRUE(store_->VerifyPresigned(link.key, link.expires, link.signature, now).has_value());
  EXPECT_TRUE(store_->VerifyPresigned(link.key, link.expires, link.signature, now + std::chrono::seconds(600)));
}

TEST_F(FilesystemBlobStoreTest, ExpiredPresignedLinkIsRefused) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  Link link = ParseLink(*store_->PresignGetAt("k", std::chrono::seconds(60), now));
  auto late = store_->VerifyPresigned(link.key, link.expires, link.signature, now + std::chrono::seconds(61));
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
}

TEST_F(FilesystemBlobStoreTest, ForgedPresignedLinksAreRefused) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  Link link = ParseLink(*store_->PresignGetAt("mine", std::chrono::seconds(60), now));

  std::string flipped = link.signature;
  flipped[5] = flipped[5] == '0' ? '1' : '0';
  auto forged = store_->VerifyPresigned(link.key, link.expires, flipped, now);
  ASSERT_FALSE(forged.has_value());
  EXPECT_EQ(forged.error().code, ErrorCode::kInvalidArgument);
  // Moving the expiry later, or using the signature for another key, breaks it.
  EXPECT_EQ(store_->VerifyPresigned(link.key, "1800000000", link.signature, now).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->VerifyPresigned("theirs", link.expires, link.signature, now).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(store_->VerifyPresigned(link.key, "soon", link.signature, now).has_value());
  EXPECT_FALSE(store_->VerifyPresigned(link.key, link.expires, "", now).has_value());
  // Another store's key does not sign for this one.
  auto other = FilesystemBlobStore::Open({.root = dir_.path() / "blobs", .signing_key = "another-key-of-32-bytes-length!!"});
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE((*other)->VerifyPresigned(link.key, link.expires, link.signature, now).has_value());
}

TEST_F(FilesystemBlobStoreTest, ShortSigningKeyIsRefused) {
  auto opened = FilesystemBlobStore::Open({.root = dir_.path() / "b2", .signing_key = "short"});
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
}

TEST(SigningKeyFile, IsCreatedOwnerOnlyAndThenReused) {
  TempDir dir("sigkey");
  const fs::path file = dir / "blobs/.signing-key";
  auto first = LoadOrCreateSigningKey(file);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->size(), 64u);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  auto second = LoadOrCreateSigningKey(file);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, *first);
  // Nothing but the key file is left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

// An archive written beside the store is renamed into place (the same inode:
// no copy); the sidecar still knows its hash; the file is gone.
TEST_F(FilesystemBlobStoreTest, PutFileMoveRenamesAFileOfTheSameFilesystem) {
  const fs::path file = dir_.path() / "export.tar";
  const std::string bytes(3 << 20, 'x');
  std::ofstream(file, std::ios::binary) << bytes;
  const ino_t inode = InodeOf(file);
  auto stored = store_->PutFileMove("exports/j1/export.tar", file, {.content_type = "application/x-tar"});
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(InodeOf(store_->PathOf("exports/j1/export.tar")), inode);
  EXPECT_EQ(stored->size, bytes.size());
  auto head = store_->Head("exports/j1/export.tar");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->sha256, base::Sha256Hex(bytes));
  EXPECT_EQ(head->content_type, "application/x-tar");
  EXPECT_EQ(*store_->Get("exports/j1/export.tar"), bytes);
  EXPECT_TRUE(StrayFiles().empty());

  // A wrong expected hash stores nothing and keeps the file.
  std::ofstream(file, std::ios::binary) << "abc";
  auto refused = store_->PutFileMove("exports/j1/other.tar", file, {.sha256 = std::string(64, '0')});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, base::ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(file));
  EXPECT_FALSE(store_->Head("exports/j1/other.tar").has_value());
}

// From another filesystem (tmpfs here) the file is copied, then removed.
TEST_F(FilesystemBlobStoreTest, PutFileMoveCopiesAcrossFilesystems) {
  const fs::path file = fs::path("/dev/shm") / ("furrsight-move-" + std::to_string(::getpid()));
  if (!fs::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
  std::ofstream(file, std::ios::binary) << "groomed";
  auto stored = store_->PutFileMove("exports/j2/card.md", file, {});
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(*store_->Get("exports/j2/card.md"), "groomed");
}

}  // namespace
}  // namespace furrsight::workers
