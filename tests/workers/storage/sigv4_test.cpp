// SigV4 against the worked examples of AWS's S3 documentation ("Signature
// Calculations for the Authorization Header" and "Authenticating Requests:
// Using Query Parameters"), which use these credentials and this date.
#include "workers/storage/sigv4.hpp"

#include <gtest/gtest.h>

#include "events/base/sha256.hpp"

namespace furrsight::workers::sigv4 {
namespace {

const Credentials kAws{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
const auto kMay24 = std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z

TEST(SigV4, AmzDateIsBasicIso8601InUtc) { EXPECT_EQ(AmzDate(kMay24), "20130524T000000Z"); }

TEST(SigV4, GetObjectExampleSignsAsAwsDocuments) {
  CanonicalRequest request{.method = "GET",
                           .path = "/test.txt",
                           .query = "",
                           .headers = {{"host", "examplebucket.s3.amazonaws.com"},
                                       {"range", "bytes=0-9"},
                                       {"x-amz-content-sha256", std::string(kEmptyPayloadHash)},
                                       {"x-amz-date", "20130524T000000Z"}},
                           .payload_hash = std::string(kEmptyPayloadHash)};
  EXPECT_EQ(base::Sha256Hex(request.Text()), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(Signature(kAws, "20130524T000000Z", request),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(kAws, "20130524T000000Z", request),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectExampleSignsAsAwsDocuments) {
  const std::string payload_hash = base::Sha256Hex("Welcome to Amazon S3.");
  ASSERT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CanonicalRequest request{.method = "PUT",
                           .path = UriEncode("/test$file.text", false),
                           .query = "",
                           .headers = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
                                       {"host", "examplebucket.s3.amazonaws.com"},
                                       {"x-amz-content-sha256", payload_hash},
                                       {"x-amz-date", "20130524T000000Z"},
                                       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                           .payload_hash = payload_hash};
  EXPECT_EQ(request.path, "/test%24file.text");
  EXPECT_EQ(Signature(kAws, "20130524T000000Z", request),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, PresignedUrlExampleSignsAsAwsDocuments) {
  std::string url = PresignGetUrl(kAws, "https://examplebucket.s3.amazonaws.com", "/test.txt",
                                  std::chrono::seconds(86400), kMay24);
  EXPECT_EQ(url,
            "https://examplebucket.s3.amazonaws.com/test.txt"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, UriEncodeKeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UriEncode("a-b_c.d~e/f", false), "a-b_c.d~e/f");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("a b+c=é", false), "a%20b%2Bc%3D%C3%A9");
}

TEST(SigV4, HostOfDropsTheSchemesDefaultPortOnly) {
  EXPECT_EQ(HostOf("http://127.0.0.1:9000"), "127.0.0.1:9000");
  EXPECT_EQ(HostOf("http://minio:80"), "minio");
  EXPECT_EQ(HostOf("https://s3.eu-west-1.amazonaws.com:443"), "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(HostOf("https://s3.example:8443/"), "s3.example:8443");
}

}  // namespace
}  // namespace furrsight::workers::sigv4
