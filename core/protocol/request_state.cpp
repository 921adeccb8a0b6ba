#include "core/protocol/request_state.hpp"

#include <optional>
#include <utility>

#include "core/config/error.hpp"
#include "core/util/crypto.hpp"

namespace mcpd::core {

namespace {

// Versions the payload layout and separates these MACs from any other use of the key.
constexpr std::string_view k_context = "mcpd-request-state-v1.";

std::int64_t unix_ms(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

RpcError refused(std::string why) {
  return RpcError{rpc_code::k_invalid_params, "invalid requestState: " + std::move(why)};
}

bool is_string_member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string();
}

// The payload's fields, or nullopt when it is not the layout seal() writes.
std::optional<json> parse_payload(std::string_view text) {
  json payload = json::parse(text, nullptr, false);
  if (payload.is_discarded() || !payload.is_object()) return std::nullopt;
  for (const char* key : {"sub", "m", "n", "d"})
    if (!is_string_member(payload, key)) return std::nullopt;
  const auto exp = payload.find("exp");
  const auto answers = payload.find("a");
  if (exp == payload.end() || !exp->is_number_integer() || answers == payload.end() ||
      !answers->is_object())
    return std::nullopt;
  return payload;
}

}  // namespace

RequestStateSealer::RequestStateSealer(std::string key, std::chrono::seconds lifetime)
    : m_key(key.empty() ? random_bytes(k_min_key_bytes) : std::move(key)), m_lifetime(lifetime) {
  if (m_key.size() < k_min_key_bytes) throw Error("the requestState key must be at least 32 bytes");
}

std::string RequestStateSealer::mac(std::string_view payload) const {
  std::string text(k_context);
  text.append(payload);
  return hmac_sha256_hex(m_key, text);
}

std::string RequestStateSealer::seal(const StateBinding& binding, const json& answers,
                                     std::chrono::system_clock::time_point now) const {
  const json payload{{"sub", binding.principal},
                     {"m", binding.method},
                     {"n", binding.name},
                     {"d", binding.digest},
                     {"exp", unix_ms(now + m_lifetime)},
                     {"a", answers.is_object() ? answers : json::object()}};
  const std::string encoded =
      base64url_encode(payload.dump(-1, ' ', false, json::error_handler_t::replace));
  return encoded + "." + mac(encoded);
}

std::variant<json, RpcError> RequestStateSealer::open(
    const StateBinding& binding, std::string_view state,
    std::chrono::system_clock::time_point now) const {
  if (state.size() > k_max_state_bytes) return refused("too large");
  const auto dot = state.find('.');
  if (dot == std::string_view::npos) return refused("malformed");
  const std::string_view encoded = state.substr(0, dot);
  const std::string_view tag = state.substr(dot + 1);
  const std::string expected = mac(encoded);
  // Constant time: the comparison must not tell a forger how much of the tag was right.
  if (!equal_constant_time(tag, expected))
    return refused("integrity check failed (tampered, or sealed by another server key)");

  const auto text = base64url_decode(encoded);
  const auto payload = text ? parse_payload(*text) : std::nullopt;
  if (!payload) return refused("malformed");
  if ((*payload)["exp"].get<std::int64_t>() <= unix_ms(now)) return refused("expired");
  if ((*payload)["sub"] != binding.principal) return refused("issued to another caller");
  if ((*payload)["m"] != binding.method || (*payload)["n"] != binding.name ||
      (*payload)["d"] != binding.digest)
    return refused("issued for another request");
  return std::move((*payload)["a"]);
}

std::string arguments_digest(const json& arguments) {
  // nlohmann's objects are ordered maps: dump() is canonical for equal values.
  return sha256_hex(arguments.dump(-1, ' ', true, json::error_handler_t::replace));
}

}  // namespace mcpd::core
