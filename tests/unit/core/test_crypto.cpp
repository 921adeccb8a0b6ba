// SHA-256 and HMAC-SHA-256 against published test vectors, and the small helpers beside them.

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "core/util/crypto.hpp"

using namespace mcpd::core;

TEST_CASE("SHA-256 (FIPS 180-2 examples)", "[core][crypto]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("HMAC-SHA-256 (RFC 4231 test cases 1 and 2)", "[core][crypto]") {
  CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("constant-time equality and random bytes", "[core][crypto]") {
  CHECK(equal_constant_time("abc", "abc"));
  CHECK_FALSE(equal_constant_time("abc", "abd"));
  CHECK_FALSE(equal_constant_time("abc", "abcd"));
  CHECK(equal_constant_time("", ""));

  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) seen.insert(random_bytes(32));
  CHECK(seen.size() == 8);
  CHECK(random_bytes(32).size() == 32);
  CHECK(random_bytes(0).empty());
}

TEST_CASE("base64url alphabet", "[core][crypto]") {
  CHECK(is_base64url_char('-'));
  CHECK(is_base64url_char('_'));
  CHECK_FALSE(is_base64url_char('+'));
  CHECK_FALSE(is_base64url_char('='));
  CHECK(base64url_decode(base64url_encode(std::string("\0\xff\x10", 3))) ==
        std::string("\0\xff\x10", 3));
}
