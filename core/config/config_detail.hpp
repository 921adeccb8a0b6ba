#pragma once
// Helpers shared by the config layers (config_file.cpp, config.cpp, describe.cpp); not part
// of the public interface.

#include <filesystem>
#include <optional>
#include <string>

#include "core/config/config.hpp"

namespace mcpd::core::config_detail {

std::string lower(std::string text);
// Accepts spdlog's names plus "warning" and "fatal"; returns the spdlog name or "".
std::string normalize_level(const std::string& text);
inline constexpr const char* k_level_names = "trace, debug, info, warning, error, critical or off";
std::optional<long long> parse_integer(const std::string& text);
bool valid_http_url(const std::string& url);
// The whole file; throws mcpd::Error "<what>: cannot read FILE: reason".
std::string read_text_file(const std::filesystem::path& file, const std::string& what);
// A secret kept in a file: its content without trailing newlines.
std::string read_secret_file(const std::filesystem::path& file, const std::string& what);
// The variable's value, or nullopt when it is unset or empty (`PORT=` means "not set").
std::optional<std::string> get(const Environment& env, const std::string& name);
// Marks every key present in the config file as coming from `file`.
void record_file_origins(Settings& settings, const nlohmann::json& config,
                         const std::filesystem::path& file);

}  // namespace mcpd::core::config_detail
