#pragma once
// The SSRF guard of http handlers: which addresses an upstream URL may connect to. Checked on
// the addresses a name resolves to, at connect time (after DNS, so a name that later resolves
// somewhere else — DNS rebinding — is checked again on every new connection). Redirects are
// never followed, so there is no second hop to check.
//
// An address is refused when it lies in a deny range and in no allow range. The deny ranges
// are the built-in ones (Settings::upstream_deny's default: link-local, which holds the cloud
// metadata endpoints, the EC2 IPv6 metadata address and the unspecified addresses) plus the
// configured ones; allow ranges lift a refusal. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// are matched as the IPv4 address they carry.

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.hpp"

namespace mcpd::transports::upstream {

// An address range: "169.254.0.0/16", "fe80::/10", or one address ("::1", /32 or /128).
struct Cidr {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};  // v4: the first 4
  unsigned prefix = 0;                   // bits
  std::string text;                      // as written in the setting

  // std::nullopt (and `error` set) for anything else: host bits set, a prefix too long, a
  // name instead of an address, a zone id.
  static std::optional<Cidr> parse(std::string_view text, std::string& error);
  bool contains(const boost::asio::ip::address& address) const;
};

// ::ffff:a.b.c.d as a.b.c.d; any other address as it is.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address);

class AddressRules {
 public:
  AddressRules() = default;  // allows everything
  // Throws mcpd::Error naming the setting ("upstream.deny: '10.0.0.0/33': ...").
  AddressRules(const std::vector<std::string>& deny, const std::vector<std::string>& allow);

  // Why `address` is refused ("address 169.254.169.254 is in upstream.deny 169.254.0.0/16"),
  // or std::nullopt when it may be used.
  std::optional<std::string> refusal(const boost::asio::ip::address& address) const;

 private:
  std::vector<Cidr> m_deny;
  std::vector<Cidr> m_allow;
};

// The built-in deny ranges plus settings.upstream_deny, and settings.upstream_allow.
// Throws mcpd::Error naming the setting for a malformed range.
AddressRules address_rules(const core::Settings& settings);

}  // namespace mcpd::transports::upstream
