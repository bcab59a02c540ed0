// The SSRF guard. IpAddress: an IPv4 or IPv6 address as bytes.
// ClassifyAddress: what kind of address it is (RFC 6890 special-purpose
// ranges, cloud metadata endpoints, IPv6 forms that embed an IPv4 address
// judged by that address). AddressGuard: may the crawler connect to it?
// Only public unicast addresses, plus what an explicit allowlist opens
// ("loopback" for tests and the local demo, or CIDRs). Cloud metadata
// endpoints are refused whatever the allowlist says.
// The guard is judged on the address actually connected to (see
// CurlFetcher), never on a host name.
// Value types: immutable after construction, safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/base/error.hpp"

struct sockaddr;

namespace furrsight::workers {

struct IpAddress {
  enum class Family { kV4, kV6 };
  Family family = Family::kV4;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  // "10.0.0.1", "::1", "[::1]"; nullopt for anything else.
  static std::optional<IpAddress> Parse(std::string_view text);
  static std::optional<IpAddress> FromSockaddr(const sockaddr* address);
  static IpAddress V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);

  std::string ToString() const;
  // The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), IPv4-compatible
  // (::/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) IPv6 address.
  std::optional<IpAddress> EmbeddedV4() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

enum class AddressClass {
  kPublic,
  kLoopback,       // 127/8, ::1
  kPrivate,        // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  kLinkLocal,      // 169.254/16, fe80::/10
  kMulticast,      // 224/4, ff00::/8
  kMetadata,       // 169.254.169.254, 169.254.170.2, 100.100.100.200, fd00:ec2::254
  kCarrierNat,     // 100.64/10
  kUnspecified,    // 0/8, ::
  kBroadcast,      // 255.255.255.255
  kDocumentation,  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
  kReserved,       // 192.0.0/24, 198.18/15, 192.88.99/24, 240/4, 100::/64, 2001::/23, outside 2000::/3
};

AddressClass ClassifyAddress(const IpAddress& address);
std::string_view AddressClassName(AddressClass c);  // "public", "loopback", "private", ...

struct Cidr {
  IpAddress network;
  int prefix_length = 0;

  // "10.1.0.0/16", "fd00::/8", or a bare address (a /32 or /128).
  static std::optional<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& address) const;
};

class AddressGuard {
 public:
  // Refuses everything but public addresses.
  AddressGuard() = default;
  // A comma- or space-separated list: "loopback", "private" (10/8, 172.16/12,
  // 192.168/16, fc00::/7) and CIDRs. Empty: the default guard.
  static base::Result<AddressGuard> FromAllowlist(std::string_view allowlist);

  // Why the crawler may not connect to `address` ("10.0.0.1 is private"), or
  // nullopt when it may.
  std::optional<std::string> Refusal(const IpAddress& address) const;
  bool Allows(const IpAddress& address) const { return !Refusal(address).has_value(); }

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace furrsight::workers
