#include "storage/codec.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mcpd::storage::codec {

std::string encode_tools(const std::vector<std::string>& tools) {
  return nlohmann::json(tools).dump();
}

std::vector<std::string> decode_tools(const std::string& text) {
  const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) throw std::runtime_error("allowed_tools is not a JSON array");
  std::vector<std::string> tools;
  for (const auto& item : parsed) {
    if (!item.is_string()) throw std::runtime_error("allowed_tools holds a non-string");
    tools.push_back(item.get<std::string>());
  }
  return tools;
}

}  // namespace mcpd::storage::codec
