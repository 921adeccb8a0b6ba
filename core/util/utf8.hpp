#pragma once
// UTF-8 checks shared by everything that must emit valid text (JSON logs, metrics labels,
// exec output, resource contents).

#include <cstddef>
#include <string_view>

namespace mcpd::core {

// Length of the valid UTF-8 sequence at the start of `s` (1 for ASCII), or 0 when it is not
// one: truncated, overlong forms, surrogates and code points past U+10FFFF are invalid.
std::size_t utf8_sequence_length(std::string_view s);

// Whether all of `text` is valid UTF-8.
bool valid_utf8(std::string_view text);

}  // namespace mcpd::core
