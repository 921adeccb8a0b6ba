#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

#include "core/config/config.hpp"
#include "core/config/error.hpp"
#include "transports/upstream/address_rules.hpp"

using namespace mcpd::transports::upstream;
using boost::asio::ip::make_address;

namespace {

Cidr cidr(const char* text) {
  std::string error;
  auto parsed = Cidr::parse(text, error);
  INFO(text << ": " << error);
  REQUIRE(parsed);
  return *parsed;
}

bool parses(const char* text) {
  std::string error;
  return Cidr::parse(text, error).has_value();
}

AddressRules builtin() {
  mcpd::core::Settings settings;
  return address_rules(settings);
}

}  // namespace

TEST_CASE("IPv4 ranges contain exactly their addresses", "[transports][upstream][ssrf]") {
  const Cidr link_local = cidr("169.254.0.0/16");
  CHECK(link_local.contains(make_address("169.254.169.254")));
  CHECK(link_local.contains(make_address("169.254.0.0")));
  CHECK(link_local.contains(make_address("169.254.255.255")));
  CHECK_FALSE(link_local.contains(make_address("169.253.255.255")));
  CHECK_FALSE(link_local.contains(make_address("169.255.0.0")));
  CHECK_FALSE(link_local.contains(make_address("fe80::1")));

  const Cidr odd = cidr("10.64.0.0/10");  // a prefix that is not a whole byte
  CHECK(odd.contains(make_address("10.127.255.255")));
  CHECK_FALSE(odd.contains(make_address("10.128.0.0")));
  CHECK_FALSE(odd.contains(make_address("10.63.255.255")));

  const Cidr one = cidr("127.0.0.1");  // a bare address is a /32
  CHECK(one.prefix == 32);
  CHECK(one.contains(make_address("127.0.0.1")));
  CHECK_FALSE(one.contains(make_address("127.0.0.2")));

  const Cidr all = cidr("0.0.0.0/0");
  CHECK(all.contains(make_address("8.8.8.8")));
  CHECK_FALSE(all.contains(make_address("::1")));
}

TEST_CASE("IPv6 ranges contain exactly their addresses", "[transports][upstream][ssrf]") {
  const Cidr link_local = cidr("fe80::/10");
  CHECK(link_local.contains(make_address("fe80::1")));
  CHECK(link_local.contains(make_address("febf:ffff::1")));
  CHECK_FALSE(link_local.contains(make_address("fec0::1")));
  CHECK_FALSE(link_local.contains(make_address("169.254.169.254")));

  const Cidr metadata = cidr("fd00:ec2::254/128");
  CHECK(metadata.contains(make_address("fd00:ec2:0::254")));
  CHECK_FALSE(metadata.contains(make_address("fd00:ec2::255")));

  const Cidr loopback = cidr("::1");
  CHECK(loopback.prefix == 128);
  CHECK(loopback.contains(make_address("::1")));
  CHECK_FALSE(loopback.contains(make_address("::")));
}

TEST_CASE("IPv4-mapped IPv6 addresses match as the IPv4 address they carry",
          "[transports][upstream][ssrf]") {
  const Cidr link_local = cidr("169.254.0.0/16");
  CHECK(link_local.contains(make_address("::ffff:169.254.169.254")));
  CHECK(link_local.contains(make_address("::ffff:a9fe:a9fe")));
  CHECK_FALSE(link_local.contains(make_address("::ffff:127.0.0.1")));
  CHECK(unmapped(make_address("::ffff:10.1.2.3")) == make_address("10.1.2.3"));

  // A range written in the mapped form is the IPv4 range.
  const Cidr mapped = cidr("::ffff:127.0.0.0/104");
  CHECK(mapped.v4);
  CHECK(mapped.prefix == 8);
  CHECK(mapped.contains(make_address("127.9.9.9")));
  CHECK(mapped.contains(make_address("::ffff:127.9.9.9")));
}

TEST_CASE("malformed ranges are refused", "[transports][upstream][ssrf]") {
  CHECK_FALSE(parses(""));
  CHECK_FALSE(parses("localhost"));
  CHECK_FALSE(parses("10.0.0.0/33"));
  CHECK_FALSE(parses("::/129"));
  CHECK_FALSE(parses("10.0.0.0/"));
  CHECK_FALSE(parses("10.0.0.0/8x"));
  CHECK_FALSE(parses("10.0.0.0/-1"));
  CHECK_FALSE(parses("10.0.0.1/8"));  // host bits set
  CHECK_FALSE(parses("fe80::1%eth0"));
  CHECK_FALSE(parses("10.0.0"));
  CHECK(parses("10.0.0.0/8"));
  CHECK(parses("::/0"));

  try {
    AddressRules({"10.0.0.0/8", "10.0.0.0/99"}, {});
    FAIL("a bad range was accepted");
  } catch (const mcpd::Error& e) {
    CHECK(std::string(e.what()).find("upstream.deny: '10.0.0.0/99'") != std::string::npos);
  }
  CHECK_THROWS_AS(AddressRules({}, {"example.com"}), mcpd::Error);
}

TEST_CASE("the built-in rules refuse metadata, link-local and unspecified addresses only",
          "[transports][upstream][ssrf]") {
  const AddressRules rules = builtin();
  for (const char* refused :
       {"169.254.169.254", "::ffff:169.254.169.254", "169.254.1.1", "fd00:ec2::254", "fe80::1",
        "0.0.0.0", "::", "::ffff:0.0.0.0", "100.100.100.200", "168.63.129.16"}) {
    INFO(refused);
    CHECK(rules.refusal(make_address(refused)));
  }
  for (const char* allowed : {"127.0.0.1", "::1", "10.0.0.5", "192.168.1.10", "172.16.0.1",
                              "fd00::1", "8.8.8.8", "2001:db8::1", "::ffff:127.0.0.1"}) {
    INFO(allowed);
    CHECK_FALSE(rules.refusal(make_address(allowed)));
  }
  const auto why = rules.refusal(make_address("169.254.169.254"));
  REQUIRE(why);
  CHECK(*why == "address 169.254.169.254 is in upstream.deny 169.254.0.0/16");
}

TEST_CASE("configured deny adds to the built-in rules and allow lifts a refusal",
          "[transports][upstream][ssrf]") {
  mcpd::core::Settings settings;
  settings.upstream_deny = {"127.0.0.0/8", "::1"};
  settings.upstream_allow = {"127.0.0.7", "169.254.170.2"};  // e.g. the ECS task endpoint
  const AddressRules rules = address_rules(settings);
  CHECK(rules.refusal(make_address("127.0.0.1")));
  CHECK(rules.refusal(make_address("::ffff:127.0.0.1")));
  CHECK(rules.refusal(make_address("::1")));
  CHECK_FALSE(rules.refusal(make_address("127.0.0.7")));
  CHECK(rules.refusal(make_address("169.254.169.254")));  // still refused
  CHECK_FALSE(rules.refusal(make_address("169.254.170.2")));
  CHECK_FALSE(rules.refusal(make_address("10.0.0.1")));

  // An allow-list: deny everything, allow one network.
  const AddressRules only({"0.0.0.0/0", "::/0"}, {"10.1.0.0/16"});
  CHECK_FALSE(only.refusal(make_address("10.1.2.3")));
  CHECK(only.refusal(make_address("10.2.0.1")));
  CHECK(only.refusal(make_address("2001:db8::1")));

  // No rules: everything may be used.
  CHECK_FALSE(AddressRules().refusal(make_address("169.254.169.254")));
}
