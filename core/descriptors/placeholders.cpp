#include "core/descriptors/placeholders.hpp"

namespace mcpd::core {

namespace {

bool is_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

// Length of the placeholder `{name}` starting at text[pos] (which is '{'), or 0 when the brace
// does not open a placeholder.
std::size_t placeholder_length(std::string_view text, std::size_t pos) {
  std::size_t end = pos + 1;
  if (end >= text.size() || !is_ident_start(text[end])) return 0;
  while (end < text.size() && is_ident_char(text[end])) ++end;
  if (end >= text.size() || text[end] != '}') return 0;
  return end - pos + 1;
}

void collect(const nlohmann::json& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    for (auto& name : find_placeholders(value.get_ref<const std::string&>())) out.push_back(name);
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect(item, out);
  }
}

// A string that is exactly one placeholder, e.g. "{limit}": its name, else empty.
std::string_view sole_placeholder(std::string_view text) {
  if (text.empty() || text.front() != '{') return {};
  if (placeholder_length(text, 0) != text.size()) return {};
  return text.substr(1, text.size() - 2);
}

}  // namespace

std::vector<std::string> find_placeholders(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t pos = text.find('{'); pos != std::string_view::npos;
       pos = text.find('{', pos + 1)) {
    if (std::size_t length = placeholder_length(text, pos)) {
      names.emplace_back(text.substr(pos + 1, length - 2));
      pos += length - 1;
    }
  }
  return names;
}

std::vector<std::string> find_placeholders(const nlohmann::json& value) {
  std::vector<std::string> names;
  collect(value, names);
  return names;
}

std::string placeholder_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return {};
  // Invalid UTF-8 cannot reach here from parsed JSON, but never throw while formatting.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string substitute(std::string_view text, const nlohmann::json& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t done = 0;
  for (std::size_t pos = text.find('{'); pos != std::string_view::npos;
       pos = text.find('{', pos + 1)) {
    std::size_t length = placeholder_length(text, pos);
    if (length == 0) continue;
    std::string name(text.substr(pos + 1, length - 2));
    if (!values.is_object()) continue;
    auto it = values.find(name);
    if (it == values.end()) continue;
    out.append(text.substr(done, pos - done));
    out += placeholder_text(*it);
    done = pos + length;
    pos += length - 1;
  }
  out.append(text.substr(done));
  return out;
}

nlohmann::json substitute(const nlohmann::json& templ, const nlohmann::json& values) {
  if (templ.is_string()) return substitute(templ.get_ref<const std::string&>(), values);
  if (templ.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    out.get_ref<nlohmann::json::array_t&>().reserve(templ.size());
    for (const auto& item : templ) out.push_back(substitute(item, values));
    return out;
  }
  if (templ.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = templ.begin(); it != templ.end(); ++it)
      out.emplace(it.key(), substitute(*it, values));
    return out;
  }
  return templ;
}

nlohmann::json substitute_json(const nlohmann::json& templ, const nlohmann::json& values) {
  if (templ.is_string()) {
    const auto& text = templ.get_ref<const std::string&>();
    std::string_view name = sole_placeholder(text);
    if (!name.empty() && values.is_object()) {
      auto it = values.find(std::string(name));
      if (it != values.end()) return *it;
    }
    return substitute(text, values);
  }
  if (templ.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : templ) out.push_back(substitute_json(item, values));
    return out;
  }
  if (templ.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = templ.begin(); it != templ.end(); ++it)
      out[it.key()] = substitute_json(*it, values);
    return out;
  }
  return templ;
}

}  // namespace mcpd::core
