// The sealed requestState of multi round-trip requests: what it carries back, and every way a
// client (attacker-controlled) might try to reuse or forge it.

#include <catch2/catch.hpp>
#include <string>

#include "core/config/error.hpp"
#include "core/protocol/request_state.hpp"
#include "core/util/crypto.hpp"

using namespace mcpd::core;
using namespace std::chrono_literals;

namespace {

const std::string k_key(32, 'k');

StateBinding binding() {
  return {"ada@example.com/laptop", "tools/call", "deploy",
          arguments_digest(json{{"env", "prod"}, {"force", false}})};
}

RpcError refusal(const std::variant<json, RpcError>& opened) {
  REQUIRE(std::holds_alternative<RpcError>(opened));
  const RpcError& error = std::get<RpcError>(opened);
  CHECK(error.code == -32602);
  return error;
}

}  // namespace

TEST_CASE("a sealed state opens to its answers for the same request", "[core][request_state]") {
  const RequestStateSealer sealer(k_key);
  const json answers{{"confirm", {{"action", "accept"}, {"content", {{"ok", true}}}}}};
  const std::string state = sealer.seal(binding(), answers);
  CHECK(state.find("accept") == std::string::npos);  // not readable as it stands
  const auto opened = sealer.open(binding(), state);
  REQUIRE(std::holds_alternative<json>(opened));
  CHECK(std::get<json>(opened) == answers);

  // Another process with the same key (a replica) accepts it too.
  const RequestStateSealer replica(k_key);
  CHECK(std::get<json>(replica.open(binding(), state)) == answers);
}

TEST_CASE("tampering with any byte is refused", "[core][request_state]") {
  const RequestStateSealer sealer(k_key);
  const std::string state = sealer.seal(binding(), json{{"a", {{"x", 1}}}});
  for (std::size_t i = 0; i < state.size(); i += 7) {
    std::string forged = state;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    if (forged == state) continue;
    INFO("byte " << i);
    CHECK_THAT(refusal(sealer.open(binding(), forged)).message,
               Catch::Contains("invalid requestState"));
  }
  CHECK_THAT(refusal(sealer.open(binding(), state + "-TAMPERED")).message,
             Catch::Contains("integrity"));
  refusal(sealer.open(binding(), ""));
  refusal(sealer.open(binding(), "no-dot-at-all"));
  refusal(sealer.open(binding(), "."));

  // A payload re-signed by a forger who does not have the key.
  const std::string payload = base64url_encode(
      R"({"sub":"ada@example.com/laptop","m":"tools/call","n":"deploy","d":"x","exp":99999999999999,"a":{}})");
  refusal(sealer.open(binding(), payload + "." + hmac_sha256_hex("guess", payload)));
}

TEST_CASE("a state from another key is refused", "[core][request_state]") {
  const RequestStateSealer ours(k_key);
  const RequestStateSealer theirs(std::string(32, 'z'));
  CHECK_THAT(refusal(ours.open(binding(), theirs.seal(binding(), json::object()))).message,
             Catch::Contains("another server key"));
  // Two processes without a configured key draw different ones.
  const RequestStateSealer random_a, random_b;
  refusal(random_a.open(binding(), random_b.seal(binding(), json::object())));
}

TEST_CASE("a state is bound to the caller, the request and its arguments",
          "[core][request_state]") {
  const RequestStateSealer sealer(k_key);
  const std::string state = sealer.seal(binding(), json::object());

  StateBinding other = binding();
  other.principal = "eve@example.com/laptop";
  CHECK_THAT(refusal(sealer.open(other, state)).message, Catch::Contains("another caller"));
  other = binding();
  other.principal = "";  // an anonymous caller
  refusal(sealer.open(other, state));
  other = binding();
  other.name = "destroy";
  CHECK_THAT(refusal(sealer.open(other, state)).message, Catch::Contains("another request"));
  other = binding();
  other.method = "prompts/get";
  refusal(sealer.open(other, state));
  other = binding();
  other.digest = arguments_digest(json{{"env", "staging"}, {"force", false}});
  refusal(sealer.open(other, state));
}

TEST_CASE("a state expires", "[core][request_state]") {
  const RequestStateSealer sealer(k_key, 60s);
  const auto now = std::chrono::system_clock::now();
  const std::string state = sealer.seal(binding(), json::object(), now);
  CHECK(std::holds_alternative<json>(sealer.open(binding(), state, now + 59s)));
  CHECK_THAT(refusal(sealer.open(binding(), state, now + 61s)).message, Catch::Contains("expired"));
}

TEST_CASE("keys and sizes", "[core][request_state]") {
  CHECK_THROWS_AS(RequestStateSealer(std::string(31, 'k')), mcpd::Error);
  const RequestStateSealer sealer(k_key);
  CHECK_THAT(
      refusal(sealer.open(binding(), std::string(RequestStateSealer::k_max_state_bytes + 1, 'A')))
          .message,
      Catch::Contains("too large"));
}

TEST_CASE("the arguments digest ignores key order only", "[core][request_state]") {
  CHECK(arguments_digest(json::parse(R"({"a":1,"b":[1,2]})")) ==
        arguments_digest(json::parse(R"({"b":[1,2],"a":1})")));
  CHECK(arguments_digest(json::parse(R"({"a":1})")) != arguments_digest(json::parse(R"({"a":2})")));
  CHECK(arguments_digest(json::parse(R"({"b":[1,2]})")) !=
        arguments_digest(json::parse(R"({"b":[2,1]})")));
  CHECK(arguments_digest(json::object()).size() == 64);
}
