#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>

#include "core/auth/records.hpp"
#include "core/auth/token.hpp"

using namespace mcpd::core::auth;

TEST_CASE("generated tokens: prefix, length, alphabet, checksum", "[core][auth]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto token = generate_token();
    CHECK(token.size() == k_token_length);
    CHECK(token.rfind("mcpd_", 0) == 0);
    CHECK(parse_token(token));
    seen.insert(token);
  }
  CHECK(seen.size() == 200);
  // >= 256 bits of randomness in the body.
  CHECK(k_token_body_length * std::log2(62.0) >= 256.0);
}

TEST_CASE("generated bodies use the whole base62 alphabet evenly", "[core][auth]") {
  std::map<char, int> counts;
  constexpr int k_tokens = 2000;
  for (int i = 0; i < k_tokens; ++i) {
    const auto token = generate_token();
    for (char c : token.substr(k_token_prefix.size(), k_token_body_length)) ++counts[c];
  }
  CHECK(counts.size() == 62);
  const double expected = k_tokens * k_token_body_length / 62.0;  // ~1387
  for (const auto& [c, n] : counts) {
    INFO("character " << c);
    CHECK(n > expected * 0.8);
    CHECK(n < expected * 1.2);
  }
}

TEST_CASE("parse_token refuses malformed tokens", "[core][auth]") {
  const auto token = generate_token();
  REQUIRE(parse_token(token));
  CHECK(parse_token(token)->body.size() == k_token_body_length);
  CHECK(parse_token(token)->checksum.size() == k_token_checksum_length);

  CHECK_FALSE(parse_token(""));
  CHECK_FALSE(parse_token("mcpd_"));
  CHECK_FALSE(parse_token(token.substr(0, token.size() - 1)));
  CHECK_FALSE(parse_token(token + "0"));
  CHECK_FALSE(parse_token("MCPD_" + token.substr(5)));
  CHECK_FALSE(parse_token("ghp_x" + token.substr(5)));
  CHECK_FALSE(parse_token(" " + token.substr(1)));

  // Any single-character change in body or checksum is caught by the CRC.
  for (std::size_t i = k_token_prefix.size(); i < token.size(); ++i) {
    auto typo = token;
    typo[i] = typo[i] == 'x' ? 'y' : 'x';
    INFO("position " << i);
    CHECK_FALSE(parse_token(typo));
  }
  // Characters outside base62.
  for (char bad : {'-', '_', '+', '/', '=', ' ', '\0'}) {
    auto broken = token;
    broken[20] = bad;
    CHECK_FALSE(parse_token(broken));
  }
  // The seed's token_urlsafe(48) format is not an mcpd token.
  CHECK_FALSE(parse_token("Q2xhdWRlIERlc2t0b3AgdG9rZW4gZm9yIHRlc3Rpbmcgb25seSBub3QgcmVhbA"));
}

TEST_CASE("hashing: SHA-256 hex, HMAC-SHA-256 with a pepper", "[core][auth]") {
  // Known answers: sha256("abc") and HMAC-SHA256(key="key", "The quick brown fox jumps over
  // the lazy dog").
  CHECK(TokenHasher{}.hash("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(TokenHasher{"key"}.hash("The quick brown fox jumps over the lazy dog") ==
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  CHECK_FALSE(TokenHasher{}.peppered());
  CHECK(TokenHasher{"p"}.peppered());
  CHECK_FALSE(TokenHasher{""}.peppered());

  const auto token = generate_token();
  CHECK(TokenHasher{}.hash(token) == TokenHasher{}.hash(token));
  CHECK(TokenHasher{"a"}.hash(token) != TokenHasher{"b"}.hash(token));
  CHECK(TokenHasher{"a"}.hash(token) != TokenHasher{}.hash(token));
  CHECK(TokenHasher{}.hash(token).find(token) == std::string::npos);
}

TEST_CASE("masked display and allow-lists", "[core][auth]") {
  const auto token = generate_token();
  const auto last8 = last8_of(token);
  CHECK(last8 == token.substr(token.size() - 8));
  CHECK(masked_token(last8) == "****" + last8);
  CHECK(masked_token(last8).find(token.substr(5, 20)) == std::string::npos);

  CHECK(can_use_tool({}, "anything"));
  CHECK(can_use_tool({"list_products"}, "list_products"));
  CHECK_FALSE(can_use_tool({"list_products"}, "delete_product"));
  Token t;
  t.allowed_tools = {"a", "b"};
  CHECK(t.can_use_tool("b"));
  CHECK_FALSE(t.can_use_tool("c"));
}

TEST_CASE("input checks and time formatting", "[core][auth]") {
  CHECK_FALSE(check_email("ada@example.com"));
  CHECK(check_email("ada"));
  CHECK(check_email("ada@"));
  CHECK(check_email("a da@example.com"));
  CHECK(normalize_email("  Ada@Example.COM ") == "ada@example.com");
  CHECK_FALSE(check_token_name("Claude Desktop"));
  CHECK(check_token_name(""));
  CHECK(check_token_name(std::string(101, 'x')));
  CHECK_FALSE(check_tool_name("search_products"));
  CHECK_FALSE(check_tool_name("shop.search-v2"));
  CHECK(check_tool_name("rm -rf"));
  CHECK(check_tool_name(std::string(129, 'a')));
  CHECK(to_iso8601(Time{std::chrono::seconds{0}}) == "1970-01-01T00:00:00Z");
  CHECK(to_iso8601(Time{std::chrono::seconds{1763754660}}) == "2025-11-21T19:51:00Z");
}

// Tokens already issued must keep parsing: the checksum is CRC-32 (IEEE, as zlib.crc32) of
// the body in 6 base62 digits. Expected values computed independently with Python's zlib.
TEST_CASE("the checksum is the body's CRC-32 in base62", "[core][auth]") {
  CHECK(parse_token("mcpd_0123456789012345678901234567890123456789012" "1IDfut"));
  CHECK(parse_token("mcpd_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ" "4BDYuQ"));
  CHECK_FALSE(parse_token("mcpd_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ" "4BDYuR"));
}
