#include "workers/scrape/address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

namespace furrsight::workers {
namespace {

AddressClass Class(std::string_view text) {
  auto address = IpAddress::Parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address ? ClassifyAddress(*address) : AddressClass::kReserved;
}

TEST(AddressGuard, ClassifiesIpv4SpecialRanges) {
  EXPECT_EQ(Class("8.8.8.8"), AddressClass::kPublic);
  EXPECT_EQ(Class("93.184.216.34"), AddressClass::kPublic);
  EXPECT_EQ(Class("127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(Class("127.255.0.9"), AddressClass::kLoopback);
  EXPECT_EQ(Class("10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("172.16.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("172.31.255.255"), AddressClass::kPrivate);
  EXPECT_EQ(Class("172.32.0.1"), AddressClass::kPublic);
  EXPECT_EQ(Class("192.168.1.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("169.254.1.1"), AddressClass::kLinkLocal);
  EXPECT_EQ(Class("169.254.169.254"), AddressClass::kMetadata);
  EXPECT_EQ(Class("169.254.170.2"), AddressClass::kMetadata);
  EXPECT_EQ(Class("100.100.100.200"), AddressClass::kMetadata);
  EXPECT_EQ(Class("100.64.0.1"), AddressClass::kCarrierNat);
  EXPECT_EQ(Class("100.127.255.255"), AddressClass::kCarrierNat);
  EXPECT_EQ(Class("100.128.0.1"), AddressClass::kPublic);
  EXPECT_EQ(Class("0.0.0.0"), AddressClass::kUnspecified);
  EXPECT_EQ(Class("224.0.0.1"), AddressClass::kMulticast);
  EXPECT_EQ(Class("239.255.255.250"), AddressClass::kMulticast);
  EXPECT_EQ(Class("255.255.255.255"), AddressClass::kBroadcast);
  EXPECT_EQ(Class("240.0.0.1"), AddressClass::kReserved);
  EXPECT_EQ(Class("192.0.2.10"), AddressClass::kDocumentation);
  EXPECT_EQ(Class("198.18.0.1"), AddressClass::kReserved);
}

TEST(AddressGuard, ClassifiesIpv6IncludingEmbeddedIpv4) {
  EXPECT_EQ(Class("2606:4700::1111"), AddressClass::kPublic);
  EXPECT_EQ(Class("::1"), AddressClass::kLoopback);
  EXPECT_EQ(Class("::"), AddressClass::kUnspecified);
  EXPECT_EQ(Class("fe80::1"), AddressClass::kLinkLocal);
  EXPECT_EQ(Class("fc00::1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("fd12:3456::1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("fd00:ec2::254"), AddressClass::kMetadata);
  EXPECT_EQ(Class("ff02::1"), AddressClass::kMulticast);
  EXPECT_EQ(Class("2001:db8::1"), AddressClass::kDocumentation);
  EXPECT_EQ(Class("2001:0:4136:e378::1"), AddressClass::kReserved);  // Teredo
  EXPECT_EQ(Class("4000::1"), AddressClass::kReserved);              // outside 2000::/3
  // IPv4-mapped, IPv4-compatible, NAT64 and 6to4 are judged by their IPv4.
  EXPECT_EQ(Class("::ffff:127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(Class("::ffff:169.254.169.254"), AddressClass::kMetadata);
  EXPECT_EQ(Class("::ffff:10.1.2.3"), AddressClass::kPrivate);
  EXPECT_EQ(Class("::ffff:8.8.8.8"), AddressClass::kPublic);
  EXPECT_EQ(Class("::10.0.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(Class("64:ff9b::a9fe:a9fe"), AddressClass::kMetadata);
  EXPECT_EQ(Class("64:ff9b::808:808"), AddressClass::kPublic);
  EXPECT_EQ(Class("2002:7f00:1::"), AddressClass::kLoopback);
  EXPECT_EQ(Class("2002:0808:0808::1"), AddressClass::kPublic);
}

TEST(AddressGuard, DefaultGuardRefusesAllButPublic) {
  AddressGuard guard;
  EXPECT_TRUE(guard.Allows(*IpAddress::Parse("8.8.8.8")));
  EXPECT_TRUE(guard.Allows(*IpAddress::Parse("2606:4700::1111")));
  for (std::string_view bad : {"127.0.0.1", "::1", "10.0.0.1", "192.168.0.10", "169.254.169.254", "fd00:ec2::254",
                               "100.64.1.1", "224.0.0.1", "0.0.0.0", "::ffff:127.0.0.1", "fe80::1"})
    EXPECT_FALSE(guard.Allows(*IpAddress::Parse(bad))) << bad;
  EXPECT_EQ(guard.Refusal(*IpAddress::Parse("10.0.0.1")), "10.0.0.1 is private");
  EXPECT_EQ(guard.Refusal(*IpAddress::Parse("169.254.169.254")), "169.254.169.254 is cloud metadata");
}

TEST(AddressGuard, AllowlistOpensLoopbackAndCidrsButNeverMetadata) {
  auto guard = AddressGuard::FromAllowlist("loopback, 10.1.0.0/16 fd00:abcd::/32,169.254.0.0/16");
  ASSERT_TRUE(guard.has_value()) << guard.error().message;
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("127.0.0.1")));
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("::1")));
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("::ffff:127.0.0.1")));
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("10.1.200.3")));
  EXPECT_FALSE(guard->Allows(*IpAddress::Parse("10.2.0.1")));
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("fd00:abcd::9")));
  EXPECT_TRUE(guard->Allows(*IpAddress::Parse("169.254.1.1")));
  EXPECT_FALSE(guard->Allows(*IpAddress::Parse("169.254.169.254")));
  auto privates = AddressGuard::FromAllowlist("private");
  ASSERT_TRUE(privates);
  EXPECT_TRUE(privates->Allows(*IpAddress::Parse("192.168.3.4")));
  EXPECT_FALSE(privates->Allows(*IpAddress::Parse("127.0.0.1")));
  EXPECT_FALSE(AddressGuard::FromAllowlist("localhost").has_value());
  EXPECT_FALSE(AddressGuard::FromAllowlist("10.0.0.0/33").has_value());
  EXPECT_TRUE(AddressGuard::FromAllowlist("").has_value());
}

TEST(AddressGuard, CidrContainment) {
  auto cidr = Cidr::Parse("172.16.0.0/12");
  ASSERT_TRUE(cidr);
  EXPECT_TRUE(cidr->Contains(*IpAddress::Parse("172.20.1.1")));
  EXPECT_FALSE(cidr->Contains(*IpAddress::Parse("172.32.0.0")));
  EXPECT_FALSE(cidr->Contains(*IpAddress::Parse("2001:db8::1")));
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("1.2.3.4")));
  EXPECT_TRUE(Cidr::Parse("10.0.0.7")->Contains(*IpAddress::Parse("10.0.0.7")));
  EXPECT_FALSE(Cidr::Parse("10.0.0.7")->Contains(*IpAddress::Parse("10.0.0.8")));
  EXPECT_FALSE(Cidr::Parse("nonsense/8").has_value());
}

TEST(AddressGuard, AddressesFromSockaddrAndText) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "192.168.7.8", &in.sin_addr);
  auto v4 = IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in));
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->ToString(), "192.168.7.8");
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:169.254.169.254", &in6.sin6_addr);
  auto v6 = IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in6));
  ASSERT_TRUE(v6);
  EXPECT_EQ(ClassifyAddress(*v6), AddressClass::kMetadata);
  EXPECT_EQ(IpAddress::Parse("[::1]")->ToString(), "::1");
  EXPECT_FALSE(IpAddress::Parse("example.com").has_value());
  EXPECT_FALSE(IpAddress::Parse("0x7f.1").has_value());  // URL host spellings are Url's business
}

}  // namespace
}  // namespace furrsight::workers
