#include "workers/scrape/address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace furrsight::workers {
namespace {

using base::ErrorCode;
using base::Fail;

struct Range {
  std::string_view cidr;
  AddressClass klass;
};

// Most specific first: the first range that contains the address decides.
constexpr Range kV4Ranges[] = {
    {"169.254.169.254/32", AddressClass::kMetadata},  // AWS, GCP, Azure, OpenStack, Oracle
    {"169.254.170.2/32", AddressClass::kMetadata},    // AWS ECS task metadata
    {"100.100.100.200/32", AddressClass::kMetadata},  // Alibaba Cloud
    {"255.255.255.255/32", AddressClass::kBroadcast},
    {"0.0.0.0/8", AddressClass::kUnspecified},
    {"10.0.0.0/8", AddressClass::kPrivate},
    {"100.64.0.0/10", AddressClass::kCarrierNat},
    {"127.0.0.0/8", AddressClass::kLoopback},
    {"169.254.0.0/16", AddressClass::kLinkLocal},
    {"172.16.0.0/12", AddressClass::kPrivate},
    {"192.0.0.0/24", AddressClass::kReserved},
    {"192.0.2.0/24", AddressClass::kDocumentation},
    {"192.88.99.0/24", AddressClass::kReserved},
    {"192.168.0.0/16", AddressClass::kPrivate},
    {"198.18.0.0/15", AddressClass::kReserved},
    {"198.51.100.0/24", AddressClass::kDocumentation},
    {"203.0.113.0/24", AddressClass::kDocumentation},
    {"224.0.0.0/4", AddressClass::kMulticast},
    {"240.0.0.0/4", AddressClass::kReserved},
};

constexpr Range kV6Ranges[] = {
    {"fd00:ec2::254/128", AddressClass::kMetadata},  // AWS IMDS over IPv6
    {"::/128", AddressClass::kUnspecified},
    {"::1/128", AddressClass::kLoopback},
    {"64:ff9b:1::/48", AddressClass::kPrivate},  // local-use NAT64
    {"100::/64", AddressClass::kReserved},       // discard-only
    {"2001:db8::/32", AddressClass::kDocumentation},
    {"2001::/23", AddressClass::kReserved},  // IETF protocol assignments, Teredo
    {"fc00::/7", AddressClass::kPrivate},
    {"fe80::/10", AddressClass::kLinkLocal},
    {"fec0::/10", AddressClass::kPrivate},  // deprecated site-local
    {"ff00::/8", AddressClass::kMulticast},
};

constexpr std::string_view kPrivateCidrs[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"};

struct ParsedRange {
  Cidr cidr;
  AddressClass klass;
};

template <std::size_t N>
std::vector<ParsedRange> ParseRanges(const Range (&ranges)[N]) {
  std::vector<ParsedRange> out;
  for (const auto& range : ranges) {
    auto cidr = Cidr::Parse(range.cidr);
    // The tables are constants: a parse failure is a bug.
    if (!cidr) throw std::logic_error(fmt::format("bad built-in CIDR {}", range.cidr));
    out.push_back({*cidr, range.klass});
  }
  return out;
}

const std::vector<ParsedRange>& V4Ranges() {
  static const std::vector<ParsedRange> ranges = ParseRanges(kV4Ranges);
  return ranges;
}

const std::vector<ParsedRange>& V6Ranges() {
  static const std::vector<ParsedRange> ranges = ParseRanges(kV6Ranges);
  return ranges;
}

bool InGlobalUnicast(const IpAddress& a) { return (a.bytes[0] & 0xE0) == 0x20; }  // 2000::/3

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string s(text);
  IpAddress out;
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kV4;
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.family = Family::kV6;
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  IpAddress out;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    out.family = Family::kV4;
    std::memcpy(out.bytes.data(), &in.sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    out.family = Family::kV6;
    std::memcpy(out.bytes.data(), &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

IpAddress IpAddress::V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  IpAddress out;
  out.bytes[0] = a;
  out.bytes[1] = b;
  out.bytes[2] = c;
  out.bytes[3] = d;
  return out;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::kV4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::optional<IpAddress> IpAddress::EmbeddedV4() const {
  if (family != Family::kV6) return std::nullopt;
  const auto& b = bytes;
  auto zero = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  auto tail = [&](int at) { return V4(b[at], b[at + 1], b[at + 2], b[at + 3]); };
  if (zero(0, 10) && b[10] == 0xFF && b[11] == 0xFF) return tail(12);  // ::ffff:a.b.c.d
  if (zero(0, 12) && !(zero(12, 15) && b[15] <= 1)) return tail(12);   // ::a.b.c.d (not :: or ::1)
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && zero(4, 12)) return tail(12);  // 64:ff9b::/96
  if (b[0] == 0x20 && b[1] == 0x02) return tail(2);                    // 2002:AABB:CCDD::/48
  return std::nullopt;
}

AddressClass ClassifyAddress(const IpAddress& address) {
  if (address.family == IpAddress::Family::kV4) {
    for (const auto& range : V4Ranges())
      if (range.cidr.Contains(address)) return range.klass;
    return AddressClass::kPublic;
  }
  for (const auto& range : V6Ranges())
    if (range.cidr.Contains(address)) return range.klass;
  if (auto v4 = address.EmbeddedV4()) return ClassifyAddress(*v4);
  return InGlobalUnicast(address) ? AddressClass::kPublic : AddressClass::kReserved;
}

std::string_view AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kMetadata: return "cloud metadata";
    case AddressClass::kCarrierNat: return "carrier-grade NAT";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kBroadcast: return "broadcast";
    case AddressClass::kDocumentation: return "documentation";
    case AddressClass::kReserved: return "reserved";
  }
  return "unknown";
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  std::size_t slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  int max = address->family == IpAddress::Family::kV4 ? 32 : 128;
  int length = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + (c - '0');
    }
    if (length > max) return std::nullopt;
  }
  return Cidr{*address, length};
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.family != network.family) {
    // An IPv4 range also covers the IPv6 forms that embed an IPv4 address.
    if (network.family == IpAddress::Family::kV4)
      if (auto v4 = address.EmbeddedV4()) return Contains(*v4);
    return false;
  }
  int full_bytes = prefix_length / 8;
  for (int i = 0; i < full_bytes; ++i)
    if (address.bytes[i] != network.bytes[i]) return false;
  int rest = prefix_length % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (address.bytes[full_bytes] & mask) == (network.bytes[full_bytes] & mask);
}

base::Result<AddressGuard> AddressGuard::FromAllowlist(std::string_view allowlist) {
  AddressGuard guard;
  std::size_t start = 0;
  while (start < allowlist.size()) {
    std::size_t end = allowlist.find_first_of(", ", start);
    if (end == std::string_view::npos) end = allowlist.size();
    std::string_view item = allowlist.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    if (item == "loopback") {
      guard.allowed_.push_back(*Cidr::Parse("127.0.0.0/8"));
      guard.allowed_.push_back(*Cidr::Parse("::1/128"));
    } else if (item == "private") {
      for (auto cidr : kPrivateCidrs) guard.allowed_.push_back(*Cidr::Parse(cidr));
    } else if (auto cidr = Cidr::Parse(item)) {
      guard.allowed_.push_back(*cidr);
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("address allowlist: '{}' is not 'loopback', 'private' or a CIDR", item));
    }
  }
  return guard;
}

std::optional<std::string> AddressGuard::Refusal(const IpAddress& address) const {
  AddressClass klass = ClassifyAddress(address);
  if (klass == AddressClass::kPublic) return std::nullopt;
  if (klass != AddressClass::kMetadata)
    for (const auto& cidr : allowed_)
      if (cidr.Contains(address)) return std::nullopt;
  return fmt::format("{} is {}", address.ToString(), AddressClassName(klass));
}

}  // namespace furrsight::workers
