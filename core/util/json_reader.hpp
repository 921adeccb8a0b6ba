#pragma once
// The parser of every incoming message (Dispatcher::parse): JSON text to an nlohmann tree,
// accepting exactly what json::parse accepts and building the same tree, with a nesting limit
// checked before a container is built. It writes values straight into the tree: nlohmann's
// lexer copies every token, character by character, into buffers of its own (four to six
// heap blocks for a tools/call) and its parser keeps a std::vector<bool> of open containers.

#include <nlohmann/json.hpp>
#include <string_view>

namespace mcpd::core {

enum class JsonRead {
  ok,
  malformed,  // not JSON: syntax, invalid UTF-8, a control character in a string, 1e400
  too_deep,   // a container would open inside `max_depth` others
};

// Parses all of `text` (RFC 8259; a leading UTF-8 byte order mark is skipped, as nlohmann
// does) into `out`. Numbers are kept as nlohmann keeps them: an integer as unsigned or signed
// 64-bit when it fits, anything else as a double (one no double holds is malformed).
// Duplicate keys: the last wins. One difference, on purpose: nlohmann takes a NUL byte for
// the end of the text, so it accepts "{}\0anything"; here only whitespace may follow the value
// (RFC 8259). On failure `out` holds whatever was built so far. The
// parse recurses once per open container: `max_depth` bounds the stack it uses.
JsonRead read_json(std::string_view text, nlohmann::json& out, int max_depth);

}  // namespace mcpd::core
