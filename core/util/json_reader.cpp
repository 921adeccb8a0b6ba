#include "core/util/json_reader.hpp"

#include <locale.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/util/utf8.hpp"

namespace mcpd::core {

namespace {

using json = nlohmann::json;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// A double as nlohmann reads one: strtod, in the "C" locale whatever the process's is (the
// decimal point is '.'). Underflow gives 0 or a subnormal, as strtod does; the caller refuses
// what overflows.
double to_double(std::string_view token) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  char small[64];
  std::string large;
  const char* text = small;
  if (token.size() < sizeof small) {
    std::memcpy(small, token.data(), token.size());
    small[token.size()] = '\0';
  } else {
    large.assign(token);
    text = large.c_str();
  }
  // newlocale fails only without memory; strtod then reads with the process's locale, which
  // mcpd never changes from "C".
  return c_locale ? strtod_l(text, nullptr, c_locale) : std::strtod(text, nullptr);
}

class Reader {
 public:
  Reader(std::string_view text, int max_depth)
      : m_at(text.data()), m_end(text.data() + text.size()), m_max_depth(max_depth) {}

  JsonRead run(json& out) {
    if (m_end - m_at >= 3 && std::memcmp(m_at, "\xEF\xBB\xBF", 3) == 0) m_at += 3;
    skip_space();
    if (!value(out, 0)) return m_failure;
    skip_space();
    return m_at == m_end ? JsonRead::ok : JsonRead::malformed;
  }

 private:
  bool fail(JsonRead why = JsonRead::malformed) {
    m_failure = why;
    return false;
  }
  bool at(char c) const { return m_at < m_end && *m_at == c; }
  void skip_space() {
    while (m_at < m_end && (*m_at == ' ' || *m_at == '\n' || *m_at == '\r' || *m_at == '\t'))
      ++m_at;
  }
  bool word(std::string_view expected) {
    if (static_cast<std::size_t>(m_end - m_at) < expected.size() ||
        std::memcmp(m_at, expected.data(), expected.size()) != 0)
      return fail();
    m_at += expected.size();
    return true;
  }

  // `depth`: the containers around this value.
  bool value(json& out, int depth) {
    if (m_at == m_end) return fail();
    switch (*m_at) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"':
        out = json::value_t::string;
        return string(*out.get_ptr<json::string_t*>());
      case 't':
        out = true;
        return word("true");
      case 'f':
        out = false;
        return word("false");
      case 'n':
        out = nullptr;
        return word("null");
      default:
        return number(out);
    }
  }

  bool object(json& out, int depth) {
    return container(out, json::value_t::object, '}', depth, [&] {
      if (!at('"')) return fail();
      std::string key;
      if (!string(key)) return false;
      skip_space();
      if (!at(':')) return fail();
      ++m_at;
      skip_space();
      auto& members = *out.get_ptr<json::object_t*>();
      return value(members[std::move(key)], depth + 1);  // a duplicate: the last wins
    });
  }

  bool array(json& out, int depth) {
    return container(out, json::value_t::array, ']', depth, [&] {
      return value(out.get_ptr<json::array_t*>()->emplace_back(), depth + 1);
    });
  }

  // At the opening bracket of an object or array `depth` containers deep: unless that is too
  // deep, makes `out` an empty one of `type` and reads its items (`item` reads one into `out`)
  // separated by commas, up to `close`.
  template <class Item>
  bool container(json& out, json::value_t type, char close, int depth, Item&& item) {
    if (depth >= m_max_depth) return fail(JsonRead::too_deep);
    ++m_at;
    out = type;
    skip_space();
    if (at(close)) {
      ++m_at;
      return true;
    }
    for (;;) {
      if (!item()) return false;
      skip_space();
      if (at(close)) {
        ++m_at;
        return true;
      }
      if (!at(',')) return fail();
      ++m_at;
      skip_space();
    }
  }

  // At the opening quote; appends the unescaped text to `out`.
  bool string(std::string& out) {
    ++m_at;
    for (;;) {
      const char* run = m_at;
      while (m_at < m_end) {
        const auto c = static_cast<unsigned char>(*m_at);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++m_at;
      }
      out.append(run, m_at);
      if (m_at == m_end) return fail();
      const auto c = static_cast<unsigned char>(*m_at);
      if (c == '"') {
        ++m_at;
        return true;
      }
      if (c < 0x20) return fail();  // control characters must be escaped
      if (c == '\\') {
        if (!escape(out)) return false;
        continue;
      }
      const std::size_t length =
          utf8_sequence_length(std::string_view(m_at, static_cast<std::size_t>(m_end - m_at)));
      if (length == 0) return fail();
      out.append(m_at, length);
      m_at += length;
    }
  }

  // Four hex digits after "\u".
  bool code_unit(std::uint32_t& unit) {
    if (m_end - m_at < 4) return fail();
    unit = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_value(*m_at++);
      if (digit < 0) return fail();
      unit = unit * 16 + static_cast<std::uint32_t>(digit);
    }
    return true;
  }

  // At the backslash.
  bool escape(std::string& out) {
    ++m_at;
    if (m_at == m_end) return fail();
    const char c = *m_at++;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out.push_back(c);
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return fail();
    }
    std::uint32_t unit = 0;
    if (!code_unit(unit)) return false;
    if (unit >= 0xDC00 && unit <= 0xDFFF) return fail();  // a low surrogate alone
    if (unit >= 0xD800 && unit <= 0xDBFF) {               // must be followed by a low one
      std::uint32_t low = 0;
      if (m_end - m_at < 2 || m_at[0] != '\\' || m_at[1] != 'u') return fail();
      m_at += 2;
      if (!code_unit(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) return fail();
      unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, unit);
    return true;
  }

  bool number(json& out) {
    const char* start = m_at;
    const bool negative = at('-');
    if (negative) ++m_at;
    if (at('0')) {
      ++m_at;
    } else if (m_at < m_end && *m_at >= '1' && *m_at <= '9') {
      while (m_at < m_end && is_digit(*m_at)) ++m_at;
    } else {
      return fail();
    }
    bool integer = true;
    if (at('.')) {
      integer = false;
      ++m_at;
      if (m_at == m_end || !is_digit(*m_at)) return fail();
      while (m_at < m_end && is_digit(*m_at)) ++m_at;
    }
    if (at('e') || at('E')) {
      integer = false;
      ++m_at;
      if (at('+') || at('-')) ++m_at;
      if (m_at == m_end || !is_digit(*m_at)) return fail();
      while (m_at < m_end && is_digit(*m_at)) ++m_at;
    }
    if (integer) {  // unsigned or signed 64-bit when it fits, like nlohmann; else a double
      if (negative) {
        std::int64_t value = 0;
        if (std::from_chars(start, m_at, value).ec == std::errc()) {
          out = value;
          return true;
        }
      } else {
        std::uint64_t value = 0;
        if (std::from_chars(start, m_at, value).ec == std::errc()) {
          out = value;
          return true;
        }
      }
    }
    const double value = to_double(std::string_view(start, static_cast<std::size_t>(m_at - start)));
    if (!std::isfinite(value)) return fail();  // 1e400: nlohmann refuses it too
    out = value;
    return true;
  }

  const char* m_at;
  const char* const m_end;
  const int m_max_depth;
  JsonRead m_failure = JsonRead::malformed;
};

}  // namespace

JsonRead read_json(std::string_view text, json& out, int max_depth) {
  return Reader(text, max_depth).run(out);
}

}  // namespace mcpd::core
