#include "workers/storage/s3_blob_store.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>

#include <fmt/format.h>

#include "events/base/sha256.hpp"

namespace furrsight::workers {

using base::ErrorCode;
using base::Fail;

namespace {

inline constexpr std::size_t kMaxErrorBody = 64 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// The text of <tag>…</tag> in S3's XML error body ("" if absent).
std::string XmlField(std::string_view xml, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag), close = fmt::format("</{}>", tag);
  std::size_t b = xml.find(open);
  if (b == std::string_view::npos) return {};
  b += open.size();
  std::size_t e = xml.find(close, b);
  return e == std::string_view::npos ? std::string() : std::string(xml.substr(b, e - b));
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// One HTTP exchange with the server.
struct HttpRequest {
  const char* method = "GET";  // GET, PUT or HEAD
  std::string path;            // "/bucket/key", URI-encoded
  std::vector<std::string> headers;
  // PUT bodies: from memory, or from a file descriptor (streamed).
  std::string_view body;
  int body_fd = -1;
  std::uint64_t body_size = 0;
  base::Sha256* body_hash = nullptr;  // fed every byte sent, if set
  const BlobSink* sink = nullptr;     // a 2xx GET body goes here, chunk by chunk
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string error_body;                      // the body of a non-2xx answer (capped)
  std::uint64_t body_bytes = 0;                // bytes of a 2xx body given to the sink
};

// The state libcurl's callbacks share during one Perform.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  std::uint64_t sent = 0;
  base::Result<void> status;  // first failure of a callback (sink, file read)
};

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after 100 Continue)
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers[Lower(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
  }
  return size * n;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * n);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300 || t->request->sink == nullptr) {
    auto& body = t->response->error_body;
    body.append(chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
    return chunk.size();
  }
  t->status = (*t->request->sink)(chunk);
  if (!t->status) return 0;  // aborts the transfer
  t->response->body_bytes += chunk.size();
  return chunk.size();
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto& r = *t->request;
  std::size_t want = std::min<std::uint64_t>(size * n, r.body_size - t->sent);
  if (want == 0) return 0;
  std::size_t got = 0;
  if (r.body_fd >= 0) {
    ssize_t k;
    do k = ::read(r.body_fd, buffer, want);
    while (k < 0 && errno == EINTR);
    if (k < 0) {
      t->status = Fail(ErrorCode::kInternal, fmt::format("cannot read the upload's file: {}", ErrnoText(errno)));
      return CURL_READFUNC_ABORT;
    }
    if (k == 0) {
      t->status = Fail(ErrorCode::kInvalidArgument, "the upload's file got shorter while it was being sent");
      return CURL_READFUNC_ABORT;
    }
    got = static_cast<std::size_t>(k);
  } else {
    std::memcpy(buffer, r.body.data() + t->sent, want);
    got = want;
  }
  if (r.body_hash != nullptr) r.body_hash->Update(std::string_view(buffer, got));
  t->sent += got;
  return got;
}

base::Result<HttpResponse> Perform(const S3Options& options, const HttpRequest& request) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  Transfer transfer{.curl = c, .request = &request, .response = &response};
  char error_text[CURL_ERROR_SIZE] = {0};

  const std::string url = options.endpoint + request.path;
  const std::string sigv4 = fmt::format("aws:amz:{}:s3", options.region);
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& h : request.headers) {
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (next == nullptr) return Fail(ErrorCode::kInternal, "curl_slist_append failed");
    (void)headers.release();
    headers.reset(next);
  }

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  // libcurl signs every header of CURLOPT_HTTPHEADER, even one given empty
  // to suppress it ("Expect:"), which it then does not send: so never
  // suppress a header here, or the signature breaks.
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(c, CURLOPT_USERNAME, options.access_key.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, options.secret_key.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  const std::string_view method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &transfer);
  }

  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  if (!transfer.status) return std::unexpected(transfer.status.error());
  if (rc != CURLE_OK) {
    std::string detail = error_text[0] != '\0' ? error_text : curl_easy_strerror(rc);
    auto code = rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable;
    return Fail(code, fmt::format("S3 {} {}{}: {}", request.method, options.endpoint, request.path, detail));
  }
  return response;
}

base::Error HttpError(std::string_view method, std::string_view what, long status, std::string_view body) {
  const std::string code = XmlField(body, "Code"), message = XmlField(body, "Message");
  ErrorCode ec = ErrorCode::kInvalidArgument;
  if (status == 404) ec = ErrorCode::kNotFound;
  else if (status == 401 || status == 403) ec = ErrorCode::kFailedPrecondition;
  else if (status == 409) ec = ErrorCode::kConflict;
  else if (status == 408) ec = ErrorCode::kTimeout;
  else if (status >= 500 || status == 429) ec = ErrorCode::kUnavailable;
  std::string text = fmt::format("S3 {} {}: HTTP {}", method, what, status);
  if (!code.empty()) text += " " + code;
  else if (status == 404) text += " (no such object or bucket)";
  if (!message.empty()) text += ": " + message;
  return base::Error{ec, std::move(text), std::nullopt};
}

BlobInfo InfoFrom(std::string_view key, const std::map<std::string, std::string>& headers, std::uint64_t size) {
  BlobInfo info{std::string(key), size, std::string(kDefaultContentType), ""};
  if (auto it = headers.find("content-type"); it != headers.end()) info.content_type = it->second;
  if (auto it = headers.find("x-amz-meta-sha256"); it != headers.end()) info.sha256 = it->second;
  return info;
}

// A PUT of one object whose body `request` describes; options.sha256 set.
base::Result<BlobInfo> Upload(const S3Options& s3, std::string path, std::string_view key, const PutOptions& options,
                              HttpRequest& request) {
  request.method = "PUT";
  request.path = std::move(path);
  request.headers = {fmt::format("x-amz-content-sha256: {}", options.sha256),
                     fmt::format("Content-Type: {}", options.content_type),
                     fmt::format("x-amz-meta-sha256: {}", options.sha256)};
  base::Sha256 sent_hash;
  request.body_hash = &sent_hash;
  auto response = Perform(s3, request);
  if (!response) return std::unexpected(response.error());
  if (response->status < 200 || response->status >= 300)
    return std::unexpected(
        HttpError("PUT", fmt::format("{}/{}", s3.bucket, key), response->status, response->error_body));
  // AWS and MinIO refuse a body that does not match x-amz-content-sha256;
  // not every server checks, so check what was actually sent too.
  const std::string sent = base::ToHex(sent_hash.Finish());
  if (sent != options.sha256)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("S3 PUT {}/{}: the bytes sent hash to {}, not the expected {} (a wrong hash, or the file "
                            "changed while it was sent); put it again",
                            s3.bucket, key, sent, options.sha256));
  return BlobInfo{std::string(key), request.body_size, options.content_type, options.sha256};
}

}  // namespace

S3BlobStore::S3BlobStore(S3Options options)
    : options_(std::move(options)),
      credentials_{options_.access_key, options_.secret_key, options_.region, "s3"} {}

base::Result<std::unique_ptr<S3BlobStore>> S3BlobStore::Create(S3Options options) {
  static const std::regex kEndpoint(R"(^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$)");
  static const std::regex kBucket(R"(^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$)");
  while (options.endpoint.ends_with('/')) options.endpoint.pop_back();
  if (!std::regex_match(options.endpoint, kEndpoint))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("s3_endpoint '{}' is not scheme://host[:port] (http or https, no path)", options.endpoint));
  if (!std::regex_match(options.bucket, kBucket))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("s3_bucket '{}' is not a valid bucket name (3-63 of a-z 0-9 . -)", options.bucket));
  if (options.region.empty()) return Fail(ErrorCode::kInvalidArgument, "s3_region is empty");
  if (options.access_key.empty() || options.secret_key.empty())
    return Fail(ErrorCode::kInvalidArgument, "S3 storage needs s3_access_key and s3_secret_key");
  InitCurlOnce();
  return std::unique_ptr<S3BlobStore>(new S3BlobStore(std::move(options)));
}

std::string S3BlobStore::ObjectPath(std::string_view key) const {
  return fmt::format("/{}/{}", options_.bucket, sigv4::UriEncode(key, false));
}

base::Result<void> S3BlobStore::CreateBucket() {
  HttpRequest request{.method = "PUT", .path = "/" + options_.bucket};
  std::string body;
  if (options_.region != "us-east-1")
    body = fmt::format(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        options_.region);
  request.body = body;
  request.body_size = body.size();
  request.headers = {fmt::format("x-amz-content-sha256: {}", base::Sha256Hex(body))};
  auto response = Perform(options_, request);
  if (!response) return std::unexpected(response.error());
  if (response->status >= 200 && response->status < 300) return {};
  const std::string code = XmlField(response->error_body, "Code");
  if (code == "BucketAlreadyOwnedByYou") return {};
  auto refused = HttpError("PUT", "bucket " + options_.bucket, response->status, response->error_body);
  if (code == "BucketAlreadyExists") {
    // Someone's bucket has that name. Some servers (s3rver) say so to its
    // owner too: it is ours if we may read it.
    HttpRequest head{.method = "HEAD",
                     .path = "/" + options_.bucket,
                     .headers = {fmt::format("x-amz-content-sha256: {}", sigv4::kEmptyPayloadHash)}};
    auto mine = Perform(options_, head);
    if (mine && mine->status == 200) return {};
  }
  return std::unexpected(std::move(refused));
}

base::Result<BlobInfo> S3BlobStore::Put(std::string_view key, std::string_view bytes, const PutOptions& options) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (auto ok = ValidatePutOptions(options); !ok) return std::unexpected(ok.error());
  PutOptions resolved = options;
  const std::string sha = base::Sha256Hex(bytes);
  if (!resolved.sha256.empty() && resolved.sha256 != sha)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("blob {}: the bytes hash to {}, not the expected {}; nothing stored", key, sha,
                            resolved.sha256));
  resolved.sha256 = sha;
  HttpRequest request{.body = bytes, .body_size = bytes.size()};
  return Upload(options_, ObjectPath(key), key, resolved, request);
}

base::Result<BlobInfo> S3BlobStore::PutFile(std::string_view key, const std::filesystem::path& file,
                                            const PutOptions& options) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (auto ok = ValidatePutOptions(options); !ok) return std::unexpected(ok.error());
  PutOptions resolved = options;
  if (resolved.sha256.empty()) {
    // The payload hash goes in the signed headers, before the body: one
    // read of the file to hash it, one to send it.
    auto sha = Sha256OfFile(file);
    if (!sha) return std::unexpected(sha.error());
    resolved.sha256 = *sha;
  }
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Fail(errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kInvalidArgument,
                fmt::format("cannot open {}: {}", file.string(), ErrnoText(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{} is not a regular file", file.string()));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > kMaxSinglePut) {
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} is {} bytes; one S3 PUT takes at most 5 GiB and multipart upload is not implemented",
                            file.string(), size));
  }
  HttpRequest request{.body_fd = fd, .body_size = size};
  auto result = Upload(options_, ObjectPath(key), key, resolved, request);
  ::close(fd);
  return result;
}

base::Result<BlobInfo> S3BlobStore::GetTo(std::string_view key, const BlobSink& sink) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  HttpRequest request{.method = "GET",
                  .path = ObjectPath(key),
                  .headers = {fmt::format("x-amz-content-sha256: {}", sigv4::kEmptyPayloadHash)},
                  .sink = &sink};
  auto response = Perform(options_, request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200)
    return std::unexpected(
        HttpError("GET", fmt::format("{}/{}", options_.bucket, key), response->status, response->error_body));
  return InfoFrom(key, response->headers, response->body_bytes);
}

base::Result<BlobInfo> S3BlobStore::Head(std::string_view key) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  HttpRequest request{.method = "HEAD",
                  .path = ObjectPath(key),
                  .headers = {fmt::format("x-amz-content-sha256: {}", sigv4::kEmptyPayloadHash)}};
  auto response = Perform(options_, request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200)
    return std::unexpected(
        HttpError("HEAD", fmt::format("{}/{}", options_.bucket, key), response->status, response->error_body));
  std::uint64_t size = 0;
  if (auto it = response->headers.find("content-length"); it != response->headers.end())
    size = std::strtoull(it->second.c_str(), nullptr, 10);
  return InfoFrom(key, response->headers, size);
}

base::Result<std::string> S3BlobStore::PresignGetAt(std::string_view key, std::chrono::seconds expires_in,
                                                    std::chrono::system_clock::time_point now) {
  if (auto ok = ValidateKey(key); !ok) return std::unexpected(ok.error());
  if (expires_in.count() <= 0 || expires_in > sigv4::kMaxPresignExpiry)
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("an S3 presigned URL lasts 1 s to 7 days, not {} s", expires_in.count()));
  return sigv4::PresignGetUrl(credentials_, options_.endpoint, ObjectPath(key), expires_in, now);
}

}  // namespace furrsight::workers
