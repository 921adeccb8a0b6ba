#pragma once
// The requestState of multi round-trip requests (2026-07-28): what a retry needs to carry
// back — the answers the client already gave — sealed so that the client can neither read
// nor forge it. The client is attacker-controlled, so the state is bound to who asked (the
// principal), what was asked (method, name and a digest of the arguments) and a short expiry,
// and authenticated with HMAC-SHA-256. Replicas that share the key accept each other's state;
// the key comes from configuration (MCPD_STATE_KEY), else it is random per process.

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "core/protocol/rpc.hpp"

namespace mcpd::core {

using json = nlohmann::json;

// The request a state belongs to. A state sealed for one binding is refused for another.
struct StateBinding {
  std::string principal;  // who the caller is (user and token), or "" when anonymous
  std::string method;     // tools/call, prompts/get, resources/read
  std::string name;       // the tool, the prompt, or the resource's URI
  std::string digest;     // arguments_digest() of the request's arguments
};

class RequestStateSealer {
 public:
  static constexpr std::chrono::seconds k_default_lifetime{600};
  static constexpr std::size_t k_min_key_bytes = 32;
  // The largest requestState accepted back (and sealed): answers are kept whole.
  static constexpr std::size_t k_max_state_bytes = 1024 * 1024;

  // `key` of at least k_min_key_bytes bytes; an empty key draws a random one (per process).
  explicit RequestStateSealer(std::string key = {},
                              std::chrono::seconds lifetime = k_default_lifetime);

  // "<base64url payload>.<hex HMAC>" carrying `answers` (an object: key -> result).
  std::string seal(
      const StateBinding& binding, const json& answers,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
  // The answers sealed in `state`, or -32602 saying why the state is refused: malformed or
  // tampered, sealed by another key, expired, issued to another principal or for another request.
  std::variant<json, RpcError> open(
      const StateBinding& binding, std::string_view state,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

 private:
  std::string mac(std::string_view payload) const;
  std::string m_key;
  std::chrono::seconds m_lifetime;
};

// SHA-256 (hex) of the arguments' canonical JSON text (object keys sorted), so a state sealed
// for some arguments is refused on a retry that changed them.
std::string arguments_digest(const json& arguments);

}  // namespace mcpd::core
