#include <catch2/catch.hpp>

#include "core/util/utf8.hpp"

using mcpd::core::utf8_sequence_length;
using mcpd::core::valid_utf8;

TEST_CASE("utf8_sequence_length accepts valid sequences only", "[core][utf8]") {
  CHECK(utf8_sequence_length("a") == 1);
  CHECK(utf8_sequence_length("\xC3\xA9x") == 2);         // é
  CHECK(utf8_sequence_length("\xE2\x82\xAC") == 3);      // €
  CHECK(utf8_sequence_length("\xF0\x9F\x98\x80") == 4);  // 😀
  CHECK(utf8_sequence_length("") == 0);
  CHECK(utf8_sequence_length("\xC3") == 0);              // truncated
  CHECK(utf8_sequence_length("\xC0\xAF") == 0);          // overlong '/'
  CHECK(utf8_sequence_length("\xE0\x80\xAF") == 0);      // overlong
  CHECK(utf8_sequence_length("\xED\xA0\x80") == 0);      // surrogate
  CHECK(utf8_sequence_length("\xF4\x90\x80\x80") == 0);  // past U+10FFFF
  CHECK(utf8_sequence_length("\x80") == 0);              // lone continuation
  CHECK(utf8_sequence_length("\xE2\x28\xA1") == 0);      // bad continuation
}

TEST_CASE("valid_utf8 checks the whole text", "[core][utf8]") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain \xC3\xA9t\xC3\xA9 \xF0\x9F\x98\x80"));
  CHECK_FALSE(valid_utf8("ok\xFF"));
  CHECK_FALSE(valid_utf8("\xE2\x82"));
}
