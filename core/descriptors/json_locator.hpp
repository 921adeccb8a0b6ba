#pragma once
// Where things are in a JSON text. nlohmann's parser keeps no positions, so diagnostics about
// a parsed document map JSON pointers ("/tools/0/name") back to line:column with this scanner.
// Lines and columns are 1-based; columns count Unicode code points (a tab is one column), the
// way editors number characters. A leading UTF-8 byte order mark is skipped, as nlohmann does.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcpd::core {

struct TextPosition {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  bool known() const { return line > 0; }
  friend bool operator==(const TextPosition&, const TextPosition&) = default;
};

// JSON pointer helpers (RFC 6901): append one reference token, escaping '~' and '/'.
std::string pointer_append(std::string_view pointer, std::string_view key);
std::string pointer_append(std::string_view pointer, std::size_t index);

class JsonLocator {
 public:
  // Scans `text` once. Meant for text that nlohmann already accepted; on malformed text the
  // scan stops at the first problem and complete() is false (positions found so far remain).
  explicit JsonLocator(std::string_view text);

  // Position of the first character of the value at `pointer` ("" is the root).
  std::optional<TextPosition> value_position(std::string_view pointer) const;
  // Position of the opening quote of the member's key, when `pointer` names an object member.
  std::optional<TextPosition> key_position(std::string_view pointer) const;
  // Best effort for diagnostics: the key (when `prefer_key` and there is one) or the value;
  // for a pointer that does not exist, the nearest ancestor that does (at worst the root).
  TextPosition locate(std::string_view pointer, bool prefer_key = false) const;

  // Line and column of a byte offset (0-based) in `text`, e.g. from a parse_error. An offset
  // past the end gives the position just after the last character.
  static TextPosition position_at(std::string_view text, std::size_t byte_offset);

  struct DuplicateKey {
    std::string pointer;    // the member that appears more than once
    TextPosition position;  // the key of the second (and each later) occurrence
  };
  // nlohmann keeps the last of duplicate keys silently; descriptors treat them as errors.
  const std::vector<DuplicateKey>& duplicate_keys() const { return m_duplicates; }

  std::size_t max_depth() const { return m_max_depth; }  // deepest container nesting
  bool complete() const { return m_complete; }

 private:
  // One node per value: a tree, so memory stays linear in the text however deep it nests.
  struct Node {
    TextPosition value;
    std::optional<TextPosition> key;
    std::unique_ptr<std::unordered_map<std::string, std::size_t>> members;  // objects
    std::vector<std::size_t> items;                                         // arrays
  };
  class Scanner;
  const Node* find(std::string_view pointer) const;

  std::vector<Node> m_nodes;  // m_nodes[0] is the root, once scanned
  std::vector<DuplicateKey> m_duplicates;
  std::size_t m_max_depth = 0;
  bool m_complete = false;
};

}  // namespace mcpd::core
