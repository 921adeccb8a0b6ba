// Fuzzes read_json (core/util/json_reader.*), the parser of every incoming message, against
// nlohmann's json::parse: the input is JSON text as a client would send it.
//
// Invariants: read_json accepts exactly what json::parse accepts, and then builds the same
// tree (equal, and serialized alike, so the number kinds agree too), except that nlohmann
// stops at a NUL byte after the value, where read_json refuses the text (only whitespace may
// follow a value): read_json accepts the text up to that byte instead; with a nesting limit it
// refuses as too deep exactly the accepted texts nested deeper than the limit, and nothing
// else changes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/util/json_reader.hpp"

using mcpd::core::JsonRead;
using mcpd::core::read_json;
using json = nlohmann::json;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

std::optional<json> nlohmann_parse(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

// The containers on the deepest path of `value`, itself included.
int depth_of(const json& value) {
  int deepest = 0;
  if (value.is_structured())
    for (const auto& child : value) deepest = std::max(deepest, depth_of(child));
  return value.is_structured() ? deepest + 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Unlimited, in effect: an input of `size` bytes opens at most `size` containers.
  json ours;
  const JsonRead read = read_json(text, ours, static_cast<int>(size) + 1);
  check(read != JsonRead::too_deep, "no input is deeper than its length");
  const auto theirs = nlohmann_parse(text);
  if (theirs && read != JsonRead::ok) {  // nlohmann stopped at a NUL byte after the value
    const auto nul = text.find('\0');
    check(nul != std::string::npos, "read_json accepts what json::parse does");
    json before;
    check(read_json(text.substr(0, nul), before, static_cast<int>(size) + 1) == JsonRead::ok &&
              before == *theirs,
          "read_json reads the text before a trailing NUL as json::parse reads it all");
    return 0;
  }
  check((read == JsonRead::ok) == theirs.has_value(), "read_json accepts what json::parse does");
  if (!theirs) return 0;
  check(ours == *theirs, "read_json builds json::parse's tree");
  check(ours.dump() == theirs->dump(), "read_json keeps json::parse's number kinds");

  // The nesting limit refuses what is deeper, and only that.
  constexpr int k_limit = 4;
  json limited;
  const JsonRead within = read_json(text, limited, k_limit);
  check((within == JsonRead::too_deep) == (depth_of(*theirs) > k_limit),
        "the limit refuses what is nested deeper, and only that");
  if (within == JsonRead::ok) check(limited == *theirs, "a text within the limit reads the same");
  return 0;
}
