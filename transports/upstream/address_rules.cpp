#include "transports/upstream/address_rules.hpp"

#include <charconv>

#include "core/config/error.hpp"

namespace mcpd::transports::upstream {

namespace ip = boost::asio::ip;

namespace {

// Whether the first `bits` bits of a and b are equal.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) {
  for (unsigned i = 0; bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<std::uint8_t>(0xFF << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

std::vector<Cidr> parse_list(const std::vector<std::string>& texts, const std::string& setting) {
  std::vector<Cidr> rules;
  for (const auto& text : texts) {
    std::string error;
    auto cidr = Cidr::parse(text, error);
    if (!cidr) throw Error(setting + ": '" + text + "': " + error);
    rules.push_back(std::move(*cidr));
  }
  return rules;
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text, std::string& error) {
  const auto slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  boost::system::error_code ec;
  ip::address address = ip::make_address(address_text, ec);
  if (ec || address_text.find('%') != std::string::npos) {
    error = "expected an IPv4 or IPv6 address range such as 169.254.0.0/16 or fe80::/10";
    return std::nullopt;
  }
  Cidr cidr;
  cidr.text = std::string(text);
  unsigned max_bits = address.is_v4() ? 32 : 128;
  cidr.prefix = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    unsigned value = 0;
    auto [end, rc] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (bits.empty() || rc != std::errc() || end != bits.data() + bits.size() || value > max_bits) {
      error = "the prefix length after '/' must be 0 to " + std::to_string(max_bits);
      return std::nullopt;
    }
    cidr.prefix = value;
  }
  // A range written as ::ffff:a.b.c.d/n is the IPv4 range a.b.c.d/(n-96).
  if (address.is_v6() && address.to_v6().is_v4_mapped() && cidr.prefix >= 96) {
    address = unmapped(address);
    cidr.prefix -= 96;
  }
  cidr.v4 = address.is_v4();
  if (cidr.v4) {
    const auto b = address.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), cidr.bytes.begin());
  } else {
    cidr.bytes = address.to_v6().to_bytes();
  }
  // Host bits set ("10.0.0.1/8") is most likely a typo for another range: refuse it.
  std::array<std::uint8_t, 16> masked{};
  const unsigned size = cidr.v4 ? 4 : 16;
  for (unsigned i = 0; i < size; ++i) {
    const unsigned start = i * 8;
    const unsigned keep = cidr.prefix <= start ? 0 : std::min(8u, cidr.prefix - start);
    masked[i] = keep == 0 ? 0 : static_cast<std::uint8_t>(cidr.bytes[i] & (0xFF << (8 - keep)));
  }
  if (masked != cidr.bytes) {
    error = "has bits set after the prefix length (did you mean a different range?)";
    return std::nullopt;
  }
  return cidr;
}

bool Cidr::contains(const ip::address& candidate) const {
  const ip::address address = unmapped(candidate);
  if (address.is_v4() != v4) return false;
  if (v4) {
    const auto b = address.to_v4().to_bytes();
    return same_prefix(b.data(), bytes.data(), prefix);
  }
  const auto b = address.to_v6().to_bytes();
  return same_prefix(b.data(), bytes.data(), prefix);
}

ip::address unmapped(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  return address;
}

AddressRules::AddressRules(const std::vector<std::string>& deny,
                           const std::vector<std::string>& allow)
    : m_deny(parse_list(deny, "upstream.deny")), m_allow(parse_list(allow, "upstream.allow")) {}

AddressRules address_rules(const core::Settings& settings) {
  std::vector<std::string> deny = core::k_builtin_upstream_deny;
  deny.insert(deny.end(), settings.upstream_deny.begin(), settings.upstream_deny.end());
  return AddressRules(deny, settings.upstream_allow);
}

std::optional<std::string> AddressRules::refusal(const ip::address& address) const {
  for (const auto& rule : m_deny) {
    if (!rule.contains(address)) continue;
    for (const auto& lift : m_allow)
      if (lift.contains(address)) return std::nullopt;
    return "address " + address.to_string() + " is in upstream.deny " + rule.text;
  }
  return std::nullopt;
}

}  // namespace mcpd::transports::upstream
