#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <functional>

#include "core/descriptors/loader_internal.hpp"
#include "core/descriptors/placeholders.hpp"

namespace mcpd::core::loader {

namespace {

// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      char ca = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i - 1])));
      char cb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[j - 1])));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (ca == cb ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "a string";
    case Kind::nonempty_string:
      return "a non-empty string";
    case Kind::boolean:
      return "true or false";
    case Kind::object:
      return "an object";
    case Kind::array:
      return "an array";
    case Kind::positive_integer:
      return "a positive integer";
    case Kind::number:
      return "a number";
  }
  return "a value";
}

bool has_kind(const json& value, Kind kind) {
  switch (kind) {
    case Kind::string:
      return value.is_string();
    case Kind::nonempty_string:
      return value.is_string() && !value.get_ref<const std::string&>().empty();
    case Kind::boolean:
      return value.is_boolean();
    case Kind::object:
      return value.is_object();
    case Kind::array:
      return value.is_array();
    case Kind::positive_integer:
      return (value.is_number_unsigned() && value.get<std::uint64_t>() > 0) ||
             (value.is_number_integer() && value.get<std::int64_t>() > 0);
    case Kind::number:
      return value.is_number();
  }
  return false;
}

void for_each_string(const json& value, const std::string& pointer,
                     const std::function<void(const std::string&, const std::string&)>& fn) {
  if (value.is_string()) {
    fn(value.get_ref<const std::string&>(), pointer);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i)
      for_each_string(value[i], pointer_append(pointer, i), fn);
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it)
      for_each_string(*it, pointer_append(pointer, it.key()), fn);
  }
}

// Decodes one UTF-8 code point at `pos` (text nlohmann accepted is valid UTF-8).
char32_t next_code_point(std::string_view text, std::size_t& pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(pos);
  int extra = lead < 0x80 ? 0 : lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
  char32_t cp = extra == 0   ? lead
                : extra == 1 ? (lead & 0x1F)
                : extra == 2 ? (lead & 0x0F)
                             : (lead & 0x07);
  ++pos;
  for (int i = 0; i < extra && pos < text.size(); ++i, ++pos) cp = (cp << 6) | (byte(pos) & 0x3F);
  return cp;
}

std::string_view hidden_kind(char32_t cp) {
  if ((cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF)
    return "zero-width";
  if (cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
      (cp >= 0x2066 && cp <= 0x2069))
    return "bidirectional control";
  if (cp >= 0xE0000 && cp <= 0xE007F) return "tag";
  return {};
}

// Lower-case ASCII with invisible characters dropped and whitespace runs collapsed, so
// "Ignore\u200b  previous" still reads "ignore previous".
std::string normalized(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t start = pos;
    char32_t cp = next_code_point(text, pos);
    if (!hidden_kind(cp).empty()) continue;
    bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0;
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (cp < 0x80) {
      out += static_cast<char>(std::tolower(static_cast<int>(cp)));
    } else {
      out.append(text.substr(start, pos - start));
    }
  }
  return out;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// `phrase` in `text` with word boundaries where the phrase starts or ends with a letter.
bool contains_phrase(std::string_view text, std::string_view phrase) {
  for (std::size_t at = text.find(phrase); at != std::string_view::npos;
       at = text.find(phrase, at + 1)) {
    bool start_ok = at == 0 || !is_word_char(phrase.front()) || !is_word_char(text[at - 1]);
    std::size_t end = at + phrase.size();
    bool end_ok = end == text.size() || !is_word_char(phrase.back()) || !is_word_char(text[end]);
    if (start_ok && end_ok) return true;
  }
  return false;
}

// Phrases typical of prompt injection in tool descriptions ("tool poisoning").
constexpr std::array k_suspicious = {
    "ignore previous instructions",
    "ignore all previous",
    "ignore the previous",
    "ignore prior instructions",
    "ignore all prior",
    "ignore the above",
    "ignore your instructions",
    "forget previous instructions",
    "forget all previous",
    "disregard",
    "system prompt",
    "<important>",
    "</important>",
    "<system>",
    "do not tell the user",
    "don't tell the user",
    "do not mention this",
    "don't mention this",
    "without telling the user",
    "without informing the user",
    "do not inform the user",
    "hide this from the user",
    "new instructions:",
    "~/.ssh",
    "id_rsa",
    "~/.aws",
    "~/.cursor",
};

// Phrase pairs that are suspicious together ("You must ... before using this tool").
constexpr std::array<std::pair<const char*, const char*>, 2> k_suspicious_pairs = {{
    {"you must", "before using"},
    {"before using this tool", "read"},
}};

}  // namespace

FileChecker::FileChecker(std::string file, std::filesystem::path base_dir,
                         const JsonLocator& locator, const LoadOptions& options,
                         std::vector<Diagnostic>& out)
    : m_file(std::move(file)),
      m_base_dir(std::move(base_dir)),
      m_locator(locator),
      m_options(options),
      m_out(out) {}

SourceLocation FileChecker::where(std::string_view pointer, Anchor anchor) const {
  TextPosition position = m_locator.locate(pointer, anchor == Anchor::key);
  return SourceLocation{m_file, position.line, position.column};
}

void FileChecker::report(Severity severity, std::string_view pointer, std::string_view rule,
                         std::string message, Anchor anchor) {
  if (severity == Severity::error) ++m_errors;
  m_out.push_back(
      Diagnostic{severity, where(pointer, anchor), std::move(message), std::string(rule)});
}

void FileChecker::error(std::string_view pointer, std::string_view rule, std::string message,
                        Anchor anchor) {
  report(Severity::error, pointer, rule, std::move(message), anchor);
}

void FileChecker::warning(std::string_view pointer, std::string_view rule, std::string message,
                          Anchor anchor) {
  report(Severity::warning, pointer, rule, std::move(message), anchor);
}

void FileChecker::check_keys(const json& object, std::string_view pointer,
                             std::initializer_list<std::string_view> allowed,
                             std::string_view what) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown key '" + key + "' in " + std::string(what);
    std::string_view best;
    std::size_t best_distance = 3;
    for (auto candidate : allowed) {
      std::size_t d = edit_distance(key, candidate);
      if (d < best_distance) {
        best_distance = d;
        best = candidate;
      }
    }
    if (!best.empty()) {
      message += "; did you mean '" + std::string(best) + "'?";
    } else {
      message += " (allowed: ";
      bool first = true;
      for (auto candidate : allowed) {
        message += (first ? "" : ", ") + std::string(candidate);
        first = false;
      }
      message += ")";
    }
    error(pointer_append(pointer, key), "unknown-key", std::move(message), Anchor::key);
  }
}

const json* FileChecker::member(const json& object, std::string_view pointer, std::string_view key,
                                Kind kind, std::string_view rule, bool required) {
  auto it = object.find(key);
  if (it == object.end()) {
    if (required) error(pointer, rule, "missing required '" + std::string(key) + "'");
    return nullptr;
  }
  if (!has_kind(*it, kind)) {
    std::string message = "'" + std::string(key) + "' must be " + std::string(kind_name(kind));
    if (kind == Kind::nonempty_string && it->is_string())
      message = "'" + std::string(key) + "' must not be empty";
    else
      message += ", got " + json_kind_name(*it);
    error(pointer_append(pointer, key), rule, std::move(message));
    return nullptr;
  }
  return &*it;
}

std::filesystem::path FileChecker::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative()) p = m_base_dir / p;
  return p.lexically_normal();
}

void check_placeholders(FileChecker& checker, const json& value, const std::string& pointer,
                        const Declared& declared) {
  if (!declared.known) return;
  for_each_string(value, pointer, [&](const std::string& text, const std::string& at) {
    std::set<std::string> reported;
    for (const auto& name : find_placeholders(text)) {
      if (declared.names.count(name) || !reported.insert(name).second) continue;
      std::string message = "placeholder '{" + name + "}' is not a parameter of " + declared.owner;
      message += declared.names.empty() ? " (it declares none)"
                                        : " (declared: " + quoted_list(declared.names) + ")";
      checker.error(at, "unknown-placeholder", std::move(message));
    }
  });
}

void check_text(FileChecker& checker, const std::string& text, const std::string& pointer,
                TextRole role) {
  static constexpr std::string_view k_what[] = {"name", "title", "description", "message"};
  std::string_view what = k_what[static_cast<int>(role)];
  for (std::size_t pos = 0; pos < text.size();) {
    char32_t cp = next_code_point(text, pos);
    std::string_view kind = hidden_kind(cp);
    if (kind.empty()) continue;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
    checker.warning(pointer, "hidden-unicode",
                    std::string(what) + " contains an invisible " + std::string(kind) +
                        " character (" + code +
                        "); hidden text can carry instructions the "
                        "user never sees");
    break;
  }
  if (role != TextRole::description) return;  // prompt messages are instructions by design
  if (text.find("<!--") != std::string::npos)
    checker.warning(pointer, "html-comment",
                    std::string(what) +
                        " contains an HTML comment ('<!--'); clients may hide it "
                        "from the user while the model still reads it");
  std::string plain = normalized(text);
  std::string found;
  for (const char* phrase : k_suspicious)
    if (found.empty() && contains_phrase(plain, phrase)) found = phrase;
  for (const auto& [a, b] : k_suspicious_pairs)
    if (found.empty() && contains_phrase(plain, a) && contains_phrase(plain, b))
      found = std::string(a) + "' ... '" + b;
  if (!found.empty())
    checker.warning(pointer, "suspicious-instructions",
                    std::string(what) + " contains instruction-like text ('" + found +
                        "'); this is how tool poisoning hides orders to the model");
}

void check_schema_texts(FileChecker& checker, const json& schema, const std::string& pointer) {
  if (schema.is_object()) {
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      std::string at = pointer_append(pointer, it.key());
      if (it->is_string() && (it.key() == "description" || it.key() == "title"))
        check_text(checker, it->get_ref<const std::string&>(), at,
                   it.key() == "title" ? TextRole::title : TextRole::description);
      else
        check_schema_texts(checker, *it, at);
    }
  } else if (schema.is_array()) {
    for (std::size_t i = 0; i < schema.size(); ++i)
      check_schema_texts(checker, schema[i], pointer_append(pointer, i));
  }
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string json_kind_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a value";
  }
}

std::string quoted_list(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "'" : ", '") + name + "'";
  return out;
}

}  // namespace mcpd::core::loader
