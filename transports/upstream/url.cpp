#include "transports/upstream/url.hpp"

#include <cctype>

#include "core/descriptors/placeholders.hpp"

namespace mcpd::transports::upstream {

namespace {

using nlohmann::json;

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// What a path template's literal text may hold as written: unreserved, sub-delims, ':' '@'
// '/', '%' (escapes the author wrote) and '?' (a fixed query in the template).
bool is_literal_path_char(unsigned char c) {
  return is_unreserved(c) ||
         std::string_view("!$&'()*+,;=:@/%?").find(static_cast<char>(c)) != std::string_view::npos;
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  out += '%';
  out += k_hex[c >> 4];
  out += k_hex[c & 15];
}

bool is_identifier_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// The placeholder name at text[pos] ('{'), or "" when there is none; `end` is past the '}'.
std::string_view placeholder_at(std::string_view text, std::size_t pos, std::size_t& end) {
  if (text[pos] != '{' || pos + 1 >= text.size() || !is_identifier_start(text[pos + 1])) return {};
  std::size_t i = pos + 2;
  while (i < text.size() && is_identifier_char(text[i])) ++i;
  if (i >= text.size() || text[i] != '}') return {};
  end = i + 1;
  return text.substr(pos + 1, i - pos - 1);
}

// The template is exactly one placeholder: its name, else "".
std::string_view lone_placeholder(std::string_view text) {
  std::size_t end = 0;
  if (text.empty()) return {};
  std::string_view name = placeholder_at(text, 0, end);
  return end == text.size() ? name : std::string_view();
}

const json* value_of(const json& values, std::string_view name) {
  if (!values.is_object()) return nullptr;
  auto it = values.find(std::string(name));
  return it == values.end() ? nullptr : &*it;
}

bool is_dot_segment(std::string_view segment) {
  std::string decoded;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    const std::string_view escape = segment.substr(i + 1, 2);
    if (segment[i] == '%' && (escape == "2E" || escape == "2e")) {
      decoded += '.';
      i += 2;
    } else {
      decoded += segment[i];
    }
  }
  return decoded == "." || decoded == "..";
}

void append_query_pair(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += '&';
  out += percent_encode(key);
  out += '=';
  out += percent_encode(value);
}

}  // namespace

std::string BaseUrl::host_header() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::optional<BaseUrl> parse_base_url(std::string_view url, std::string& error) {
  BaseUrl base;
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    base.tls = true;
    rest = url.substr(8);
  } else {
    error = "expected an http:// or https:// URL";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = "a base URL has no query or fragment";
    return std::nullopt;
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    error = "credentials do not belong in the URL (use api_key_env or api_key_file)";
    return std::nullopt;
  }
  std::string_view port_text;
  bool port_given = false;  // a ':' after the host (an IPv6 address has its own inside [])
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address";
      return std::nullopt;
    }
    base.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after the IPv6 address";
        return std::nullopt;
      }
      port_text = after.substr(1);
      port_given = true;
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    base.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    port_given = colon != std::string_view::npos;
  }
  if (base.host.empty()) {
    error = "no host name";
    return std::nullopt;
  }
  base.port = base.tls ? 443 : 80;
  if (port_given) {
    unsigned long port = 0;
    bool ok = !port_text.empty() && port_text.size() <= 5;
    for (char c : port_text) {
      ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (ok) port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (base.host.find(':') != std::string::npos && authority.front() != '[') ok = false;
    if (!ok || port == 0 || port > 65535) {
      error = "bad port";
      return std::nullopt;
    }
    base.port = static_cast<std::uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (char c : path) {
    if (!is_literal_path_char(static_cast<unsigned char>(c)) || c == '?') {
      error = "the path holds characters that must be percent-encoded";
      return std::nullopt;
    }
  }
  base.prefix = std::string(path);
  return base;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c))
      out += ch;
    else
      append_escaped(out, c);
  }
  return out;
}

PathResult fill_path(std::string_view templ, const json& values) {
  PathResult result;
  std::string& out = result.path;
  bool in_query = false;
  for (std::size_t i = 0; i < templ.size();) {
    std::size_t end = 0;
    std::string_view name = placeholder_at(templ, i, end);
    const json* value = name.empty() ? nullptr : value_of(values, name);
    if (value) {
      const std::string text = core::placeholder_text(*value);
      if (text.empty() && !in_query) {
        result.error = "argument '" + std::string(name) + "' is empty; it is part of the URL path";
        return result;
      }
      out += percent_encode(text);
      i = end;
      continue;
    }
    const auto c = static_cast<unsigned char>(templ[i]);
    if (c == '?') in_query = true;
    if (is_literal_path_char(c))
      out += templ[i];
    else
      append_escaped(out, c);
    ++i;
  }
  const std::string_view path = std::string_view(out).substr(0, out.find('?'));
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (is_dot_segment(path.substr(start, slash - start))) {
      result.error = "the URL path would contain a '.' or '..' segment";
      return result;
    }
    start = slash + 1;
  }
  return result;
}

std::string fill_query(const json& templ, const json& values) {
  std::string out;
  if (!templ.is_object()) return out;
  for (auto it = templ.begin(); it != templ.end(); ++it) {
    if (!it->is_string()) continue;
    const std::string& text = it->get_ref<const std::string&>();
    if (std::string_view name = lone_placeholder(text); !name.empty()) {
      if (const json* value = value_of(values, name)) {
        if (value->is_null()) continue;
        if (value->is_array()) {
          for (const auto& element : *value)
            if (!element.is_null())
              append_query_pair(out, it.key(), core::placeholder_text(element));
          continue;
        }
        append_query_pair(out, it.key(), core::placeholder_text(*value));
        continue;
      }
    }
    append_query_pair(out, it.key(), core::substitute(text, values));
  }
  return out;
}

json fill_body(const json& templ, const json& values) {
  // Prune first (iteratively over a copy), then substitute_json does the typed filling.
  json pruned = templ;
  std::vector<json*> pending{&pruned};
  while (!pending.empty()) {
    json* node = pending.back();
    pending.pop_back();
    if (node->is_object()) {
      for (auto it = node->begin(); it != node->end();) {
        if (it->is_string()) {
          std::string_view name = lone_placeholder(it->get_ref<const std::string&>());
          const json* value = name.empty() ? nullptr : value_of(values, name);
          if (value && value->is_null()) {
            it = node->erase(it);
            continue;
          }
        } else if (it->is_structured()) {
          pending.push_back(&*it);
        }
        ++it;
      }
    } else if (node->is_array()) {
      for (auto& element : *node)
        if (element.is_structured()) pending.push_back(&element);
    }
  }
  return core::substitute_json(pruned, values);
}

bool valid_header_value(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

}  // namespace mcpd::transports::upstream
