#include "workers/scrape/curl_fetcher.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "events/base/log.hpp"
#include "workers/scrape/http_headers.hpp"
#include "workers/scrape/robots.hpp"
#include "workers/scrape/robots_directives.hpp"

namespace furrsight::workers {
namespace {

using Clock = std::chrono::steady_clock;
namespace log = base::log;

// Bytes of a redirect's or an error's body read (and dropped) before the
// transfer is cut: small bodies are read so the connection can be reused.
constexpr std::size_t kMaxDiscardedBody = 64 * 1024;
constexpr std::string_view kPageAccept = "text/html,application/xhtml+xml;q=0.9,image/*;q=0.8,*/*;q=0.5";
constexpr std::string_view kImageAccept = "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5";
constexpr std::string_view kRobotsAccept = "text/plain,*/*;q=0.5";
constexpr std::string_view kRawAccept = "application/json,*/*;q=0.5";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

FailureClass ClassOf(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return FailureClass::kDns;
    case CURLE_OPERATION_TIMEDOUT: return FailureClass::kTimeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY: return FailureClass::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return FailureClass::kTls;
    case CURLE_FILESIZE_EXCEEDED: return FailureClass::kTooLarge;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return FailureClass::kBadUrl;
    default: return FailureClass::kOther;
  }
}

}  // namespace

struct CurlFetcher::Impl {
  // A fetch between Submit and its result: the hop it is at.
  struct Pending {
    FetchRequest request;
    Url current;
    int redirects = 0;
    int retries = 0;
  };

  struct Host {
    int active = 0;
    Clock::time_point next_start{};
    std::chrono::milliseconds delay{0};
    std::deque<Pending> queue;
  };

  // One running hop. Heap-allocated: libcurl's callbacks hold its address.
  // A finished Transfer keeps its easy handle and goes back to `idle` for the
  // next hop (Reuse), so the options that never change are set once and the
  // handle's buffers are not allocated again for every request.
  struct Transfer {
    Impl* impl = nullptr;
    CURL* easy = nullptr;
    Pending pending;
    std::size_t max_bytes = 0;
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::string body;
    std::size_t bytes_received = 0;
    bool discard_body = false;
    bool stopped_quietly = false;  // we cut the transfer, and that is no failure
    bool truncated = false;
    bool sniffed = false;
    ContentFormat format = ContentFormat::kUnknown;
    std::optional<FailureClass> abort;  // why we cut the transfer
    std::string abort_detail;
    std::string refused_address;  // the guard refused a socket to this address
    std::string remote_ip;

    ~Transfer() {
      if (easy != nullptr) curl_easy_cleanup(easy);
    }

    // Back to the state of a new Transfer, keeping `impl` and `easy` (whose
    // options stay set).
    void Reuse() {
      pending = {};
      max_bytes = 0;
      status = 0;
      headers.clear();
      body.clear();
      bytes_received = 0;
      discard_body = false;
      stopped_quietly = false;
      truncated = false;
      sniffed = false;
      format = ContentFormat::kUnknown;
      abort.reset();
      abort_detail.clear();
      refused_address.clear();
      remote_ip.clear();
    }

    std::string Header(std::string_view name) const {
      for (const auto& [key, value] : headers)
        if (key == name) return value;
      return "";
    }

    bool Abort(FailureClass failure, std::string detail) {
      abort = failure;
      abort_detail = std::move(detail);
      return false;
    }
  };

  explicit Impl(FetcherOptions o) : options(std::move(o)), token(UserAgentProductToken(options.user_agent)) {
    GlobalInit();
    multi = curl_multi_init();
    if (multi == nullptr) throw std::runtime_error("curl_multi_init failed");
    for (const auto& entry : options.resolve) resolve = curl_slist_append(resolve, entry.c_str());
    for (FetchKind kind : {FetchKind::kPage, FetchKind::kImage, FetchKind::kRobots, FetchKind::kRaw})
      accept_headers[static_cast<std::size_t>(kind)] =
          curl_slist_append(nullptr, fmt::format("Accept: {}", AcceptOf(kind)).c_str());
  }

  ~Impl() {
    ClearActive();
    idle.clear();
    curl_multi_cleanup(multi);
    if (resolve != nullptr) curl_slist_free_all(resolve);
    for (curl_slist* list : accept_headers)
      if (list != nullptr) curl_slist_free_all(list);
  }

  static std::string_view AcceptOf(FetchKind kind) {
    switch (kind) {
      case FetchKind::kPage: return kPageAccept;
      case FetchKind::kImage: return kImageAccept;
      case FetchKind::kRobots: return kRobotsAccept;
      case FetchKind::kRaw: return kRawAccept;
    }
    return kRawAccept;
  }

  void ClearActive() {
    for (auto& [easy, transfer] : active) curl_multi_remove_handle(multi, easy);
    active.clear();
  }

  std::size_t DefaultMaxBytes(FetchKind kind) const {
    switch (kind) {
      case FetchKind::kPage: return options.max_page_bytes;
      case FetchKind::kImage: return options.max_image_bytes;
      case FetchKind::kRobots: return options.max_robots_bytes;
      case FetchKind::kRaw: return options.max_raw_bytes;
    }
    return options.max_raw_bytes;
  }

  Host& HostFor(const std::string& name) {
    auto [it, inserted] = hosts.try_emplace(name);
    if (inserted) it->second.delay = options.min_host_delay;
    return it->second;
  }

  void Enqueue(Pending pending, bool front) {
    Host& host = HostFor(pending.current.host());
    if (front) {
      host.queue.push_front(std::move(pending));
    } else {
      host.queue.push_back(std::move(pending));
    }
  }

  // Starts every queued hop its host's limits allow, hosts taken in turn.
  void StartReady() {
    if (hosts.empty()) return;
    Clock::time_point now = Clock::now();
    auto start_at = hosts.upper_bound(cursor);
    std::vector<std::map<std::string, Host>::iterator> order;
    for (auto it = start_at; it != hosts.end(); ++it) order.push_back(it);
    for (auto it = hosts.begin(); it != start_at; ++it) order.push_back(it);
    for (auto it : order) {
      Host& host = it->second;
      while (!host.queue.empty() && host.active < options.max_per_host &&
             static_cast<int>(active.size()) < options.max_in_flight && now >= host.next_start) {
        Pending pending = std::move(host.queue.front());
        host.queue.pop_front();
        ++host.active;
        host.next_start = now + host.delay;
        cursor = it->first;
        Start(std::move(pending));
      }
    }
  }

  // When the next queued hop may start (Clock::time_point::max() if none waits
  // on time alone).
  Clock::time_point NextStart() const {
    Clock::time_point next = Clock::time_point::max();
    if (static_cast<int>(active.size()) >= options.max_in_flight) return next;
    for (const auto& [name, host] : hosts)
      if (!host.queue.empty() && host.active < options.max_per_host) next = std::min(next, host.next_start);
    return next;
  }

  // A Transfer whose easy handle has every option that does not depend on the
  // request: an idle one, or a new one.
  std::unique_ptr<Transfer> TakeTransfer() {
    if (!idle.empty()) {
      std::unique_ptr<Transfer> transfer = std::move(idle.back());
      idle.pop_back();
      return transfer;
    }
    auto transfer = std::make_unique<Transfer>();
    transfer->impl = this;
    CURL* easy = curl_easy_init();
    if (easy == nullptr) throw std::runtime_error("curl_easy_init failed");
    transfer->easy = easy;
    Transfer* t = transfer.get();
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_PROXY, "");  // never a proxy from the environment
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // every encoding libcurl decodes
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::OnOpenSocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &Impl::OnPrereq);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, t);
    if (resolve != nullptr) curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve);
    return transfer;
  }

  // A finished Transfer, out of the multi handle: kept for the next hop
  // (at most max_in_flight of them), else freed.
  void Recycle(std::unique_ptr<Transfer> transfer) {
    if (static_cast<int>(idle.size()) >= options.max_in_flight) return;
    transfer->Reuse();
    idle.push_back(std::move(transfer));
  }

  void Start(Pending pending) {
    std::unique_ptr<Transfer> transfer = TakeTransfer();
    Transfer* t = transfer.get();
    t->max_bytes = pending.request.max_bytes != 0 ? pending.request.max_bytes : DefaultMaxBytes(pending.request.kind);
    t->pending = std::move(pending);
    CURL* easy = t->easy;
    curl_easy_setopt(easy, CURLOPT_URL, t->pending.current.spec().c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, accept_headers[static_cast<std::size_t>(t->pending.request.kind)]);
    if (CURLMcode rc = curl_multi_add_handle(multi, easy); rc != CURLM_OK)
      throw std::runtime_error(fmt::format("curl_multi_add_handle: {}", curl_multi_strerror(rc)));
    active.emplace(easy, std::move(transfer));
  }

  // --- libcurl callbacks -------------------------------------------------

  static size_t OnHeader(char* buffer, size_t size, size_t count, void* data) {
    auto* t = static_cast<Transfer*>(data);
    std::size_t n = size * count;
    std::string_view line = Trim(std::string_view(buffer, n));
    if (line.starts_with("HTTP/")) {  // a new response (interim or final)
      t->headers.clear();
      t->status = 0;
      std::size_t space = line.find(' ');
      if (space != std::string_view::npos) {
        std::string_view code = line.substr(space + 1, 3);
        std::from_chars(code.data(), code.data() + code.size(), t->status);
      }
      return n;
    }
    if (line.empty()) {
      if (t->status >= 100 && t->status < 200) return n;
      return t->impl->HeadersDone(*t) ? n : 0;
    }
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos)
      t->headers.emplace_back(Lower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
    return n;
  }

  // All headers of the final response are in: refuse what can be refused now.
  bool HeadersDone(Transfer& t) {
    if (IsRedirect(t.status) || t.status >= 400) {
      t.discard_body = true;
      return true;
    }
    FetchKind kind = t.pending.request.kind;
    if (kind == FetchKind::kImage) {
      for (const auto& [name, value] : t.headers) {
        if (name != "x-robots-tag") continue;
        if (ParseRobotsDirectives(value, token).ForbidsImageAi())
          return t.Abort(FailureClass::kNoai, fmt::format("X-Robots-Tag: {}", value));
      }
    }
    std::string length = t.Header("content-length");
    std::uint64_t declared = 0;
    auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), declared);
    if (!length.empty() && ec == std::errc() && declared > t.max_bytes && kind != FetchKind::kRobots)
      return t.Abort(FailureClass::kTooLarge,
                     fmt::format("Content-Length {} is above the cap of {} bytes", declared, t.max_bytes));
    // The body in one allocation when its length is declared (never above the
    // cap: a bigger one was refused above, or is cut there for robots.txt).
    // Compressed bodies may decode to more; the string then grows as usual.
    if (!length.empty() && ec == std::errc())
      t.body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(declared, t.max_bytes)));
    return true;
  }

  static size_t OnBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t n = size * count;
    t->bytes_received += n;
    if (t->discard_body) {
      if (t->bytes_received <= kMaxDiscardedBody) return n;
      t->stopped_quietly = true;
      return 0;
    }
    if (t->body.size() + n > t->max_bytes) {
      if (t->pending.request.kind == FetchKind::kRobots) {
        t->body.append(data, t->max_bytes - t->body.size());
        t->truncated = true;
        t->stopped_quietly = true;
        return 0;
      }
      t->Abort(FailureClass::kTooLarge, fmt::format("more than {} bytes", t->max_bytes));
      return 0;
    }
    t->body.append(data, n);
    if (!t->sniffed && t->body.size() >= kSniffBytes && !t->impl->Sniff(*t)) return 0;
    return n;
  }

  // Decides from the first bytes whether the body is what was asked for.
  bool Sniff(Transfer& t) {
    t.sniffed = true;
    t.format = SniffContent(t.body);
    std::string served = MediaTypeOf(t.Header("content-type"));
    switch (t.pending.request.kind) {
      case FetchKind::kImage:
        if (IsImageFormat(t.format)) return true;
        return t.Abort(FailureClass::kNotImage,
                       fmt::format("first bytes are {}, served as '{}'", FormatName(t.format), served));
      case FetchKind::kPage:
        if (IsImageFormat(t.format) || t.format == ContentFormat::kHtml) return true;
        if (served == "text/html" || served == "application/xhtml+xml") {
          t.format = ContentFormat::kHtml;
          return true;
        }
        return t.Abort(FailureClass::kNotHtml,
                       fmt::format("first bytes are {}, served as '{}'", FormatName(t.format), served));
      case FetchKind::kRobots:
      case FetchKind::kRaw: return true;
    }
    return true;
  }

  static curl_socket_t OnOpenSocket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(data);
    auto ip = IpAddress::FromSockaddr(&address->addr);
    if (!ip) {
      t->refused_address = "an address of an unknown family";
      return CURL_SOCKET_BAD;
    }
    if (auto refusal = t->impl->options.guard.Refusal(*ip)) {
      t->refused_address = *refusal;
      return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  }

  static int OnPrereq(void* data, char* primary_ip, char* /*local_ip*/, int /*primary_port*/, int /*local_port*/) {
    auto* t = static_cast<Transfer*>(data);
    t->remote_ip = primary_ip;
    auto ip = IpAddress::Parse(primary_ip);
    if (!ip) {
      t->Abort(FailureClass::kSsrf, fmt::format("connected to an unreadable address '{}'", primary_ip));
      return CURL_PREREQFUNC_ABORT;
    }
    if (auto refusal = t->impl->options.guard.Refusal(*ip)) {
      t->Abort(FailureClass::kSsrf, *refusal);
      return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
  }

  // --- completion ---------------------------------------------------------

  void Complete(FetchResult result) {
    if (result.failure)
      log::Debug("fetch failed", {{"url", result.url.spec()},
                                  {"class", FailureClassName(*result.failure)},
                                  {"detail", result.detail}});
    done.push_back(std::move(result));
  }

  void Finish(CURL* easy, CURLcode code) {
    auto node = active.extract(easy);
    curl_multi_remove_handle(multi, easy);
    std::unique_ptr<Transfer> transfer = std::move(node.mapped());
    Finish(*transfer, code);
    Recycle(std::move(transfer));
  }

  void Finish(Transfer& transfer, CURLcode code) {
    Transfer* t = &transfer;
    Host& host = HostFor(t->pending.current.host());
    --host.active;

    FetchResult r;
    r.id = t->pending.request.id;
    r.url = t->pending.request.url;
    r.final_url = t->pending.current;
    r.redirects = t->pending.redirects;
    r.retries = t->pending.retries;
    r.status = t->status;
    r.content_type = t->Header("content-type");
    for (const auto& [name, value] : t->headers)
      if (name == "x-robots-tag") r.x_robots_tags.push_back(value);
    r.bytes_received = t->bytes_received;
    r.truncated = t->truncated;
    r.remote_ip = t->remote_ip;

    if (t->abort) {
      r.failure = t->abort;
      r.detail = t->abort_detail;
      return Complete(std::move(r));
    }
    if (code == CURLE_WRITE_ERROR && t->stopped_quietly) code = CURLE_OK;
    if (code != CURLE_OK) {
      if (code == CURLE_COULDNT_CONNECT && !t->refused_address.empty()) {
        r.failure = FailureClass::kSsrf;
        r.detail = fmt::format("refused to connect: {}", t->refused_address);
      } else {
        r.failure = ClassOf(code);
        r.detail = curl_easy_strerror(code);
      }
      return Complete(std::move(r));
    }

    if (IsRedirect(t->status)) return Redirect(*t, std::move(r));
    std::string retry_refusal;
    if (t->status == 429 || (t->status == 503 && !t->Header("retry-after").empty()))
      if (Retry(*t, host, retry_refusal)) return;
    if (t->status < 200 || t->status >= 300) {
      r.failure = t->status >= 500 ? FailureClass::kHttp5xx
                  : t->status >= 400 ? FailureClass::kHttp4xx
                                     : FailureClass::kOther;
      r.detail = fmt::format("HTTP {}", t->status);
      if (t->pending.retries > 0) r.detail += fmt::format(" after {} retries", t->pending.retries);
      if (!retry_refusal.empty()) r.detail += "; " + retry_refusal;
      return Complete(std::move(r));
    }
    if (!t->sniffed && !Sniff(*t)) {
      r.failure = t->abort;
      r.detail = t->abort_detail;
      return Complete(std::move(r));
    }
    if (t->pending.request.kind == FetchKind::kImage && t->body.empty()) {
      r.failure = FailureClass::kNotImage;
      r.detail = "empty body";
      return Complete(std::move(r));
    }
    r.format = t->format;
    r.body = std::move(t->body);
    Complete(std::move(r));
  }

  void Redirect(Transfer& transfer, FetchResult r) {
    Transfer* t = &transfer;
    std::string location = t->Header("location");
    Pending& pending = t->pending;
    int max_redirects = pending.request.max_redirects >= 0 ? pending.request.max_redirects : options.max_redirects;
    auto fail = [&](FailureClass failure, std::string detail) {
      r.failure = failure;
      r.detail = std::move(detail);
      Complete(std::move(r));
    };
    if (location.empty()) return fail(FailureClass::kRedirects, fmt::format("HTTP {} without Location", t->status));
    if (std::string scheme = SchemeOf(location); !scheme.empty() && scheme != "http" && scheme != "https")
      return fail(FailureClass::kSsrf, fmt::format("redirect to a '{}' URL", scheme));
    auto next = Url::Resolve(pending.current, location);
    if (!next) return fail(FailureClass::kRedirects, fmt::format("bad Location '{}': {}", location, next.error().message));
    if (pending.redirects >= max_redirects)
      return fail(FailureClass::kRedirects, fmt::format("more than {} redirects", max_redirects));
    if (pending.request.on_redirect) {
      HopVerdict verdict = pending.request.on_redirect(*next);
      if (verdict.action == HopAction::kRefuse) return fail(verdict.failure, verdict.detail);
      if (verdict.action == HopAction::kHandOver) {
        r.final_url = *next;
        r.redirects = pending.redirects + 1;
        r.handed_over = true;
        return Complete(std::move(r));
      }
    }
    pending.current = std::move(*next);
    ++pending.redirects;
    Enqueue(std::move(pending), /*front=*/true);
  }

  // 429, or 503 with Retry-After: hold the host back and queue the request
  // again. False when its retries are spent or the wait is too long (then
  // `refusal` says which).
  bool Retry(Transfer& t, Host& host, std::string& refusal) {
    std::string header = t.Header("retry-after");
    std::optional<std::chrono::seconds> asked = ParseRetryAfter(header, std::chrono::system_clock::now());
    std::chrono::milliseconds wait = asked ? std::chrono::milliseconds(*asked) : options.default_retry_after;
    if (t.pending.retries >= options.max_retries) return false;
    if (wait > options.max_retry_after) {
      refusal = fmt::format("Retry-After {} s is above the {} s allowed", wait.count() / 1000,
                                  options.max_retry_after.count() / 1000);
      host.next_start = std::max(host.next_start, Clock::now() + options.max_retry_after);
      return false;
    }
    host.next_start = std::max(host.next_start, Clock::now() + wait);
    Pending pending = std::move(t.pending);
    ++pending.retries;
    log::Debug("host asked to wait", {{"host", pending.current.host()}, {"ms", wait.count()}});
    Enqueue(std::move(pending), /*front=*/true);
    return true;
  }

  void ReadDone() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left))
      if (message->msg == CURLMSG_DONE) Finish(message->easy_handle, message->data.result);
  }

  std::size_t Queued() const {
    std::size_t n = 0;
    for (const auto& [name, host] : hosts) n += host.queue.size();
    return n;
  }

  FetcherOptions options;
  std::string token;  // the User-Agent's product token
  CURLM* multi = nullptr;
  curl_slist* resolve = nullptr;
  std::map<std::string, Host> hosts;
  std::string cursor;  // the host that started last (round robin)
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  std::vector<FetchResult> done;
  std::vector<std::unique_ptr<Transfer>> idle;  // finished, easy handles kept for reuse
  std::array<curl_slist*, 4> accept_headers{};  // "Accept: ..." by FetchKind
  std::size_t outstanding = 0;
};

CurlFetcher::CurlFetcher(FetcherOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

CurlFetcher::~CurlFetcher() = default;

void CurlFetcher::Submit(FetchRequest request) {
  Impl::Pending pending;
  pending.current = request.url;
  pending.request = std::move(request);
  impl_->Enqueue(std::move(pending), /*front=*/false);
  ++impl_->outstanding;
}

std::vector<FetchResult> CurlFetcher::Wait(std::chrono::milliseconds max_wait) {
  Impl& impl = *impl_;
  Clock::time_point deadline = Clock::now() + max_wait;
  while (true) {
    impl.StartReady();
    int running = 0;
    curl_multi_perform(impl.multi, &running);
    impl.ReadDone();
    if (!impl.done.empty()) break;
    impl.StartReady();
    if (impl.active.empty() && impl.Queued() == 0) break;
    Clock::time_point now = Clock::now();
    if (now >= deadline) break;
    Clock::time_point until = std::min(deadline, impl.NextStart());
    if (until <= now && !impl.active.empty()) until = now + std::chrono::milliseconds(1);
    auto timeout = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    if (timeout.count() > 0) curl_multi_poll(impl.multi, nullptr, 0, static_cast<int>(timeout.count()), nullptr);
  }
  std::vector<FetchResult> out;
  out.swap(impl.done);
  impl.outstanding -= out.size();
  return out;
}

std::size_t CurlFetcher::Outstanding() const { return impl_->outstanding; }

void CurlFetcher::SetHostDelay(std::string_view host, std::chrono::milliseconds delay) {
  Impl::Host& state = impl_->HostFor(std::string(host));
  state.delay = std::max(delay, impl_->options.min_host_delay);
}

void CurlFetcher::CancelAll() {
  impl_->ClearActive();
  for (auto& [name, host] : impl_->hosts) {
    host.queue.clear();
    host.active = 0;
  }
  impl_->done.clear();
  impl_->outstanding = 0;
}

const FetcherOptions& CurlFetcher::options() const { return impl_->options; }

}  // namespace furrsight::workers
