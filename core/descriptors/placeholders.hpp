#pragma once
// `{name}` placeholders: `name` is an identifier ([A-Za-z_][A-Za-z0-9_]*); any other brace is
// literal. Substitution happens in every string value of a JSON template.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::core {

// Names of the placeholders in `text`, in order of appearance (duplicates kept).
std::vector<std::string> find_placeholders(std::string_view text);
// (std::string and string literals convert to both string_view and json: these pick the text.)
inline std::vector<std::string> find_placeholders(const std::string& text) {
  return find_placeholders(std::string_view(text));
}
inline std::vector<std::string> find_placeholders(const char* text) {
  return find_placeholders(std::string_view(text));
}
// Every placeholder name in every string value of `value` (object keys are not templates).
std::vector<std::string> find_placeholders(const nlohmann::json& value);

// How an argument value becomes text: strings as they are, null or absent as "",
// numbers and booleans as their JSON spelling, arrays and objects as compact JSON.
std::string placeholder_text(const nlohmann::json& value);

// Replaces each `{name}` whose name is a key of `values` (an object); other braces stay.
std::string substitute(std::string_view text, const nlohmann::json& values);
inline std::string substitute(const std::string& text, const nlohmann::json& values) {
  return substitute(std::string_view(text), values);
}
inline std::string substitute(const char* text, const nlohmann::json& values) {
  return substitute(std::string_view(text), values);
}
// Substitutes in every string value of `templ`, recursively.
nlohmann::json substitute(const nlohmann::json& templ, const nlohmann::json& values);
// Like substitute(templ, values), but a string that is exactly one placeholder ("{limit}")
// becomes the value itself with its JSON type (so an http body template {"limit": "{limit}"}
// sends a number). Names absent from `values` stay literal, as above.
nlohmann::json substitute_json(const nlohmann::json& templ, const nlohmann::json& values);

}  // namespace mcpd::core
