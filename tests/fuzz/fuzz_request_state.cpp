// Fuzzes the sealed requestState of multi round-trip requests (core/protocol/request_state.*)
// with a fixed key, binding and clock. The first byte chooses what the rest is:
//   'R': answers (JSON text). When they are an object, they are sealed and opened again;
//   anything else: a requestState as a client would send it back, opened.
//
// Invariants: open() never throws; an accepted state gives an object, and refuses every
// one-byte change of itself, another binding (principal, method, name, arguments digest)
// and a clock past its lifetime; a seal/open round trip gives back the answers sealed;
// every refusal is -32602.

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "core/protocol/request_state.hpp"

using namespace mcpd::core;

namespace {

const RequestStateSealer k_sealer(std::string(32, 'k'));
// 2026-01-01T00:00:00Z, the seal time of the seed states in corpus/fuzz_request_state/.
const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
const StateBinding k_binding{"ada@example.com/laptop", "tools/call", "two_steps",
                             arguments_digest(json{{"city", "Paris"}})};

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

bool refused(const std::variant<json, RpcError>& opened) {
  if (const auto* error = std::get_if<RpcError>(&opened)) {
    check(error->code == -32602, "a refused state is -32602");
    return true;
  }
  return false;
}

// What must hold for a state open() accepted for k_binding at k_now.
void check_accepted(const std::string& state, const json& answers) {
  check(answers.is_object(), "an opened state holds an object");
  std::array<StateBinding, 4> others{k_binding, k_binding, k_binding, k_binding};
  others[0].principal = "eve@example.com/laptop";
  others[1].method = "prompts/get";
  others[2].name = "three_at_once";
  others[3].digest = arguments_digest(json{{"city", "Rome"}});
  for (const auto& other : others)
    check(refused(k_sealer.open(other, state, k_now)), "a state is refused for another request");
  check(refused(k_sealer.open(k_binding, state, k_now + RequestStateSealer::k_default_lifetime)),
        "an expired state is refused");
  const RequestStateSealer other_key(std::string(32, 'x'));
  check(refused(other_key.open(k_binding, state, k_now)), "another key refuses the state");
  const std::size_t step = state.size() / 48 + 1;
  for (std::size_t i = 0; i < state.size(); i += step) {
    std::string tampered = state;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    check(refused(k_sealer.open(k_binding, tampered, k_now)), "a changed state is refused");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] != 'R') {
    const auto opened = k_sealer.open(k_binding, rest, k_now);
    if (!refused(opened)) check_accepted(std::string(rest), std::get<json>(opened));
    return 0;
  }
  const json answers = json::parse(rest, nullptr, false);
  if (answers.is_discarded() || !answers.is_object()) return 0;
  const std::string state = k_sealer.seal(k_binding, answers, k_now);
  const auto opened = k_sealer.open(k_binding, state, k_now);
  if (state.size() > RequestStateSealer::k_max_state_bytes) {
    check(refused(opened), "a state over the size limit is refused");
    return 0;
  }
  check(!refused(opened), "a state is accepted by its sealer");
  check(std::get<json>(opened) == answers, "the round trip gives the answers back");
  check_accepted(state, std::get<json>(opened));
  return 0;
}
