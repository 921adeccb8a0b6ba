#include "core/descriptors/json_locator.hpp"

#include <algorithm>

namespace mcpd::core {

namespace {

constexpr std::string_view k_bom = "\xEF\xBB\xBF";

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string pointer_append(std::string_view pointer, std::string_view key) {
  std::string out(pointer);
  out += '/';
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string pointer_append(std::string_view pointer, std::size_t index) {
  std::string out(pointer);
  out += '/';
  out += std::to_string(index);
  return out;
}

// An iterative scanner (no recursion, so deep nesting cannot exhaust the stack) that records
// where each value and member key starts.
class JsonLocator::Scanner {
 public:
  Scanner(std::string_view text, JsonLocator& out) : m_text(text), m_out(out) {}

  bool run() {
    if (m_text.substr(0, k_bom.size()) == k_bom) m_pos = k_bom.size();
    bool expect_value = true;
    while (true) {
      if (expect_value) {
        if (!scan_value()) return false;
        if (m_just_opened) {
          // Just entered a non-empty container: go on with its first member.
          m_just_opened = false;
          if (m_stack.back().object && !scan_key()) return false;
        } else {
          expect_value = false;
        }
        continue;
      }
      skip_ws();
      if (m_stack.empty()) return m_pos == m_text.size();
      if (at_end()) return false;
      Frame& frame = m_stack.back();
      char c = m_text[m_pos];
      if (c == ',') {
        advance();
        if (frame.object && !scan_key()) return false;
        expect_value = true;
      } else if ((frame.object && c == '}') || (!frame.object && c == ']')) {
        advance();
        m_stack.pop_back();
      } else {
        return false;
      }
    }
  }

 private:
  struct Frame {
    std::size_t node;
    bool object;
    std::string token;  // how the parent reaches this container (escaped), for pointers
  };

  bool at_end() const { return m_pos >= m_text.size(); }

  void advance() {
    char c = m_text[m_pos++];
    if (c == '\n') {
      ++m_line;
      m_column = 1;
    } else if (!is_continuation_byte(c)) {
      ++m_column;
    }
  }

  void skip_ws() {
    while (!at_end()) {
      char c = m_text[m_pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      advance();
    }
  }

  TextPosition here() const { return {m_line, m_column}; }

  std::string container_pointer() const {
    std::string pointer;
    for (std::size_t i = 1; i < m_stack.size(); ++i) pointer += "/" + m_stack[i].token;
    return pointer;
  }

  // Adds a node for the value starting here and hangs it under the innermost container.
  // Returns the escaped token that reaches it from there.
  std::string attach(std::size_t& index) {
    index = m_out.m_nodes.size();
    m_out.m_nodes.emplace_back();
    m_out.m_nodes[index].value = here();
    if (m_stack.empty()) return {};
    Node& parent = m_out.m_nodes[m_stack.back().node];
    if (m_stack.back().object) {
      m_out.m_nodes[index].key = m_key_at;
      (*parent.members)[m_key] = index;  // a duplicate key: the last one counts, as in nlohmann
      return pointer_append("", m_key).substr(1);
    }
    parent.items.push_back(index);
    return std::to_string(parent.items.size() - 1);
  }

  // Scans one value. Containers are only opened here; an empty one is closed at once, a
  // non-empty one sets m_just_opened so run() descends into it.
  bool scan_value() {
    skip_ws();
    if (at_end()) return false;
    std::size_t index = 0;
    std::string token = attach(index);
    char c = m_text[m_pos];
    if (c == '{' || c == '[') {
      bool object = c == '{';
      if (object)
        m_out.m_nodes[index].members =
            std::make_unique<std::unordered_map<std::string, std::size_t>>();
      advance();
      m_out.m_max_depth = std::max(m_out.m_max_depth, m_stack.size() + 1);
      skip_ws();
      if (!at_end() && m_text[m_pos] == (object ? '}' : ']')) {
        advance();
        return true;
      }
      m_stack.push_back(Frame{index, object, std::move(token)});
      m_just_opened = true;
      return true;
    }
    if (c == '"') return scan_string(nullptr);
    return scan_scalar();
  }

  // Reads `"key" :` of the innermost object.
  bool scan_key() {
    skip_ws();
    if (at_end() || m_text[m_pos] != '"') return false;
    m_key_at = here();
    m_key.clear();
    if (!scan_string(&m_key)) return false;
    skip_ws();
    if (at_end() || m_text[m_pos] != ':') return false;
    advance();
    const Node& object = m_out.m_nodes[m_stack.back().node];
    if (object.members->count(m_key))
      m_out.m_duplicates.push_back({pointer_append(container_pointer(), m_key), m_key_at});
    return true;
  }

  bool scan_scalar() {
    std::size_t start = m_pos;
    while (!at_end()) {
      char c = m_text[m_pos];
      bool token_char = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.';
      if (!token_char) break;
      advance();
    }
    return m_pos > start;
  }

  bool read_hex4(char32_t& unit) {
    if (m_pos + 4 > m_text.size()) return false;
    unit = 0;
    for (int i = 0; i < 4; ++i) {
      int v = hex_value(m_text[m_pos]);
      if (v < 0) return false;
      unit = unit * 16 + static_cast<char32_t>(v);
      advance();
    }
    return true;
  }

  // Scans a string literal; decodes it into `decoded` when given (keys need their real text).
  bool scan_string(std::string* decoded) {
    advance();  // opening quote
    while (!at_end()) {
      char c = m_text[m_pos];
      if (c == '"') {
        advance();
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (decoded) *decoded += c;
        advance();
        continue;
      }
      advance();
      if (at_end()) return false;
      char e = m_text[m_pos];
      advance();
      if (e == 'u') {
        char32_t unit = 0;
        if (!read_hex4(unit)) return false;
        if (unit >= 0xD800 && unit <= 0xDBFF && m_pos + 1 < m_text.size() &&
            m_text[m_pos] == '\\' && m_text[m_pos + 1] == 'u') {
          advance();
          advance();
          char32_t low = 0;
          if (!read_hex4(low)) return false;
          if (low >= 0xDC00 && low <= 0xDFFF) {
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
          } else if (decoded) {
            append_utf8(*decoded, unit);
            unit = low;
          }
        }
        if (decoded) append_utf8(*decoded, unit);
        continue;
      }
      if (!decoded) continue;
      switch (e) {
        case 'b':
          *decoded += '\b';
          break;
        case 'f':
          *decoded += '\f';
          break;
        case 'n':
          *decoded += '\n';
          break;
        case 'r':
          *decoded += '\r';
          break;
        case 't':
          *decoded += '\t';
          break;
        default:
          *decoded += e;
          break;  // '"', '\\', '/'
      }
    }
    return false;
  }

  std::string_view m_text;
  JsonLocator& m_out;
  std::size_t m_pos = 0;
  int m_line = 1;
  int m_column = 1;
  bool m_just_opened = false;
  std::string m_key;  // the member key just read, and where it starts
  TextPosition m_key_at;
  std::vector<Frame> m_stack;
};

JsonLocator::JsonLocator(std::string_view text) {
  Scanner scanner(text, *this);
  m_complete = scanner.run();
}

const JsonLocator::Node* JsonLocator::find(std::string_view pointer) const {
  if (m_nodes.empty()) return nullptr;
  const Node* node = &m_nodes[0];
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    if (pointer[pos] != '/') return nullptr;
    std::size_t end = pointer.find('/', pos + 1);
    if (end == std::string_view::npos) end = pointer.size();
    std::string token;
    for (std::size_t i = pos + 1; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token += pointer[++i] == '0' ? '~' : '/';
      } else {
        token += pointer[i];
      }
    }
    pos = end;
    if (node->members) {
      auto it = node->members->find(token);
      if (it == node->members->end()) return nullptr;
      node = &m_nodes[it->second];
    } else {
      bool digits = !token.empty() && token.size() < 19 &&
                    token.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) return nullptr;
      std::size_t index = std::stoull(token);
      if (index >= node->items.size()) return nullptr;
      node = &m_nodes[node->items[index]];
    }
  }
  return node;
}

std::optional<TextPosition> JsonLocator::value_position(std::string_view pointer) const {
  const Node* node = find(pointer);
  if (!node) return std::nullopt;
  return node->value;
}

std::optional<TextPosition> JsonLocator::key_position(std::string_view pointer) const {
  const Node* node = find(pointer);
  if (!node) return std::nullopt;
  return node->key;
}

TextPosition JsonLocator::locate(std::string_view pointer, bool prefer_key) const {
  std::string_view current = pointer;
  while (true) {
    if (const Node* node = find(current)) {
      if (prefer_key && node->key) return *node->key;
      return node->value;
    }
    if (current.empty()) return {1, 1};
    current = current.substr(0, current.rfind('/'));
    prefer_key = false;
  }
}

TextPosition JsonLocator::position_at(std::string_view text, std::size_t byte_offset) {
  TextPosition position{1, 1};
  std::size_t start = text.substr(0, k_bom.size()) == k_bom ? k_bom.size() : 0;
  std::size_t end = byte_offset < text.size() ? byte_offset : text.size();
  for (std::size_t i = start; i < end; ++i) {
    if (text[i] == '\n') {
      ++position.line;
      position.column = 1;
    } else if (!is_continuation_byte(text[i])) {
      ++position.column;
    }
  }
  return position;
}

}  // namespace mcpd::core
