#include "workers/scrape/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include <fmt/format.h>

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;

constexpr int kMaxPort = 65535;
constexpr std::size_t kMaxUrlLength = 8192;
constexpr std::string_view kHex = "0123456789ABCDEF";
constexpr std::array<std::string_view, 7> kImageExtensions = {".jpg", ".jpeg", ".png", ".gif",
                                                              ".webp", ".avif", ".bmp"};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return IsAlpha(static_cast<char>(c)) || IsDigit(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

bool IsSubDelim(unsigned char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',' || c == ';' || c == '=';
}

bool AllowedLiterally(unsigned char c, bool query) {
  return IsUnreserved(c) || IsSubDelim(c) || c == ':' || c == '@' || c == '/' || (query && c == '?');
}

void AppendEscape(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// Trims spaces and C0 controls at both ends and removes tabs and newlines
// anywhere, as browsers do with href values.
std::string Clean(std::string_view in) {
  while (!in.empty() && static_cast<unsigned char>(in.front()) <= 0x20) in.remove_prefix(1);
  while (!in.empty() && static_cast<unsigned char>(in.back()) <= 0x20) in.remove_suffix(1);
  std::string out;
  out.reserve(in.size());
  for (char c : in)
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  return out;
}

// "scheme:" at the start (RFC 3986 3.1): the scheme, lower-case, and the rest.
std::optional<std::pair<std::string, std::string_view>> SplitScheme(std::string_view s) {
  if (s.empty() || !IsAlpha(s[0])) return std::nullopt;
  for (std::size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == ':') return std::pair{LowerAscii(s.substr(0, i)), s.substr(i + 1)};
    if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.')) return std::nullopt;
  }
  return std::nullopt;
}

// '\' is '/' for http(s) everywhere before the query.
void BackslashesToSlashes(std::string& s) {
  std::size_t end = s.find_first_of("?#");
  if (end == std::string::npos) end = s.size();
  std::replace(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(end), '\\', '/');
}

// The byte an escape "%XY" starting at s[i] stands for, or -1 when s[i] is
// not the start of a valid escape.
int EscapeAt(std::string_view s, std::size_t i) {
  if (s[i] != '%' || i + 2 >= s.size()) return -1;
  int hi = HexValue(s[i + 1]);
  int lo = HexValue(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (int byte = EscapeAt(s, i); byte >= 0) {
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One part of a WHATWG IPv4 host: decimal, 0x-hex or 0-octal.
std::optional<std::uint64_t> ParseIpv4Part(std::string_view part) {
  if (part.empty() || part.size() > 12) return std::nullopt;
  int radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
    if (part.empty()) return 0;
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (char c : part) {
    int d = HexValue(c);
    if (d < 0 || d >= radix) return std::nullopt;
    value = value * static_cast<std::uint64_t>(radix) + static_cast<std::uint64_t>(d);
  }
  return value;
}

bool EndsInNumber(std::string_view host) {
  std::size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), IsDigit)) return true;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
    return std::all_of(last.begin() + 2, last.end(), [](char c) { return HexValue(c) >= 0; });
  return false;
}

// WHATWG IPv4 parser: "127.1", "0x7f.0.0.1", "2130706433" -> "127.0.0.1".
base::Result<std::string> ParseIpv4Host(std::string_view host) {
  std::array<std::uint64_t, 4> parts{};
  std::size_t count = 0;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = host.find('.', start);
    std::string_view piece = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (count == 4) return Fail(ErrorCode::kInvalidArgument, fmt::format("bad IPv4 host '{}'", host));
    auto value = ParseIpv4Part(piece);
    if (!value) return Fail(ErrorCode::kInvalidArgument, fmt::format("bad IPv4 host '{}'", host));
    parts[count++] = *value;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::uint64_t address = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > 255) return Fail(ErrorCode::kInvalidArgument, fmt::format("bad IPv4 host '{}'", host));
    address |= parts[i] << (8 * (3 - i));
  }
  std::uint64_t last_limit = std::uint64_t{1} << (8 * (5 - count));
  if (parts[count - 1] >= last_limit)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("bad IPv4 host '{}'", host));
  address |= parts[count - 1];
  return fmt::format("{}.{}.{}.{}", (address >> 24) & 0xFF, (address >> 16) & 0xFF, (address >> 8) & 0xFF,
                     address & 0xFF);
}

base::Result<std::string> NormalizeHost(std::string_view raw) {
  if (raw.empty()) return Fail(ErrorCode::kInvalidArgument, "URL has no host");
  if (raw.front() == '[') {
    if (raw.back() != ']') return Fail(ErrorCode::kInvalidArgument, "unterminated IPv6 host");
    std::string inner(raw.substr(1, raw.size() - 2));
    in6_addr address{};
    if (inet_pton(AF_INET6, inner.c_str(), &address) != 1)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("bad IPv6 host '{}'", raw));
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &address, text, sizeof text);
    return fmt::format("[{}]", text);
  }
  std::string host = LowerAscii(PercentDecode(raw));
  for (char ch : host) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F || std::string_view(" #%/:<>?@[\\]^|").find(ch) != std::string_view::npos)
      return Fail(ErrorCode::kInvalidArgument, fmt::format("forbidden character in host '{}'", raw));
  }
  if (host.size() > 1 && host.back() == '.') host.pop_back();
  if (host.empty() || host == ".") return Fail(ErrorCode::kInvalidArgument, "URL has no host");
  if (EndsInNumber(host)) return ParseIpv4Host(host);
  return host;
}

}  // namespace

std::string NormalizePercentEncoding(std::string_view text, bool query) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '%') {
      if (int byte = EscapeAt(text, i); byte >= 0) {
        auto decoded = static_cast<unsigned char>(byte);
        if (IsUnreserved(decoded)) {
          out += static_cast<char>(decoded);
        } else {
          AppendEscape(out, decoded);
        }
        i += 2;
      } else {
        out += "%25";
      }
    } else if (AllowedLiterally(c, query)) {
      out += static_cast<char>(c);
    } else {
      AppendEscape(out, c);
    }
  }
  return out;
}

std::string RemoveDotSegments(std::string_view path) {
  std::string input(path);
  std::string output;
  std::size_t i = 0;
  auto starts = [&](std::string_view prefix) { return std::string_view(input).substr(i).starts_with(prefix); };
  auto pop_last_segment = [&output] {
    std::size_t slash = output.rfind('/');
    output.erase(slash == std::string::npos ? 0 : slash);
  };
  while (i < input.size()) {
    if (starts("../")) {
      i += 3;
    } else if (starts("./")) {
      i += 2;
    } else if (starts("/./")) {
      i += 2;  // leaves "/" at i
    } else if (std::string_view(input).substr(i) == "/.") {
      input.replace(i, 2, "/");
    } else if (starts("/../")) {
      i += 3;  // leaves "/" at i
      pop_last_segment();
    } else if (std::string_view(input).substr(i) == "/..") {
      input.replace(i, 3, "/");
      pop_last_segment();
    } else if (std::string_view(input).substr(i) == "." || std::string_view(input).substr(i) == "..") {
      i = input.size();
    } else {
      std::size_t next = input.find('/', i + 1);
      if (next == std::string::npos) next = input.size();
      output.append(input, i, next - i);
      i = next;
    }
  }
  return output;
}

std::string SchemeOf(std::string_view reference) {
  auto split = SplitScheme(Clean(reference));
  return split ? split->first : std::string();
}

base::Result<Url> Url::Parse(std::string_view text) {
  if (text.size() > kMaxUrlLength)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("URL longer than {} bytes", kMaxUrlLength));
  std::string cleaned = Clean(text);
  auto split = SplitScheme(cleaned);
  if (!split) return Fail(ErrorCode::kInvalidArgument, fmt::format("not an absolute URL: '{}'", cleaned));
  auto& [scheme, rest_view] = *split;
  if (scheme != "http" && scheme != "https")
    return Fail(ErrorCode::kInvalidArgument, fmt::format("unsupported scheme '{}' (only http and https)", scheme));
  std::string rest(rest_view);
  BackslashesToSlashes(rest);
  std::size_t begin = rest.find_first_not_of('/');
  if (begin == std::string::npos) return Fail(ErrorCode::kInvalidArgument, "URL has no host");
  std::size_t authority_end = rest.find_first_of("/?#", begin);
  if (authority_end == std::string::npos) authority_end = rest.size();
  std::string_view authority = std::string_view(rest).substr(begin, authority_end - begin);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);

  std::string_view host_part = authority;
  std::string_view port_part;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Fail(ErrorCode::kInvalidArgument, "unterminated IPv6 host");
    host_part = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Fail(ErrorCode::kInvalidArgument, "garbage after IPv6 host");
      port_part = after.substr(1);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host_part = authority.substr(0, colon);
    port_part = authority.substr(colon + 1);
  }

  Url url;
  url.scheme_ = scheme;
  auto host = NormalizeHost(host_part);
  if (!host) return std::unexpected(host.error());
  url.host_ = std::move(*host);
  if (!port_part.empty()) {
    if (port_part.size() > 5 || !std::all_of(port_part.begin(), port_part.end(), IsDigit))
      return Fail(ErrorCode::kInvalidArgument, fmt::format("bad port '{}'", port_part));
    int port = std::stoi(std::string(port_part));
    if (port > kMaxPort) return Fail(ErrorCode::kInvalidArgument, fmt::format("bad port '{}'", port_part));
    int default_port = scheme == "https" ? 443 : 80;
    url.port_ = port == default_port ? 0 : port;
  }

  std::string_view tail = std::string_view(rest).substr(authority_end);
  tail = tail.substr(0, tail.find('#'));
  std::size_t question = tail.find('?');
  std::string_view raw_path = tail.substr(0, question);
  url.path_ = RemoveDotSegments(NormalizePercentEncoding(raw_path));
  if (url.path_.empty() || url.path_.front() != '/') url.path_.insert(0, "/");
  if (question != std::string_view::npos) url.query_ = NormalizePercentEncoding(tail.substr(question + 1), true);

  url.spec_ = url.Origin() + url.PathAndQuery();
  return url;
}

base::Result<Url> Url::Resolve(const Url& base, std::string_view reference) {
  if (reference.size() > kMaxUrlLength)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("URL longer than {} bytes", kMaxUrlLength));
  std::string ref = Clean(reference);
  if (auto split = SplitScheme(ref)) {
    if (split->first != "http" && split->first != "https")
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("unsupported scheme '{}' (only http and https)", split->first));
    return Parse(ref);
  }
  BackslashesToSlashes(ref);
  ref.erase(std::min(ref.find('#'), ref.size()));
  if (ref.starts_with("//")) return Parse(base.scheme_ + ":" + ref);

  std::size_t question = ref.find('?');
  std::string_view ref_path = std::string_view(ref).substr(0, question);
  std::string path;
  std::string query;
  bool has_query = question != std::string::npos;
  if (ref_path.empty()) {
    path = base.path_;
    query = has_query ? ref.substr(question + 1) : base.query_;
  } else {
    if (ref_path.front() == '/') {
      path = ref_path;
    } else {
      path = base.path_.substr(0, base.path_.rfind('/') + 1);
      path += ref_path;
    }
    if (has_query) query = ref.substr(question + 1);
  }
  return Parse(base.Origin() + path + (query.empty() ? "" : "?" + query));
}

int Url::port() const {
  if (port_ != 0) return port_;
  return scheme_ == "https" ? 443 : 80;
}

std::string Url::PathAndQuery() const { return query_.empty() ? path_ : path_ + "?" + query_; }

std::string Url::Origin() const {
  return port_ == 0 ? fmt::format("{}://{}", scheme_, host_) : fmt::format("{}://{}:{}", scheme_, host_, port_);
}

bool Url::HasImageExtension() const {
  std::string last = LowerAscii(std::string_view(path_).substr(path_.rfind('/') + 1));
  return std::any_of(kImageExtensions.begin(), kImageExtensions.end(),
                     [&](std::string_view ext) { return last.size() > ext.size() && last.ends_with(ext); });
}

}  // namespace furrsight::workers
