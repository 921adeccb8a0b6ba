#include "core/handlers/exec_output.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/handlers/runner.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::core {

namespace {

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t k_summary_chars = 300;
constexpr std::size_t k_excerpt_chars = 200;
// Deeper values are refused: serializing them later would recurse that deep.
constexpr int k_max_depth = 256;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The first `max` bytes of `s` (cut at a character boundary), as valid UTF-8.
std::string excerpt(std::string_view s, std::size_t max = k_excerpt_chars) {
  if (s.size() <= max) return sanitize_utf8(s);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return sanitize_utf8(s.substr(0, cut)) + "...";
}

// Nesting depth of the JSON text (brackets outside strings), stopping past k_max_depth.
int json_depth(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > k_max_depth) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// nlohmann's message without its "[json.exception...] " prefix.
std::string parse_error_text(const json::exception& e) {
  std::string_view what = e.what();
  if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
  return excerpt(what, k_summary_chars);
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

McpBadLine bad_line(std::string_view reason, std::string_view line) {
  return McpBadLine{"bad output line: " + std::string(reason) + ": " + excerpt(line)};
}

bool is_log_level(const json& level) {
  static const std::array<std::string_view, 8> k_levels = {
      "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
  if (!level.is_string()) return false;
  const auto& name = level.get_ref<const std::string&>();
  return std::find(k_levels.begin(), k_levels.end(), name) != k_levels.end();
}

McpLine parse_progress(const json& value, std::string_view line) {
  McpProgress progress;
  if (!value["progress"].is_number()) return bad_line("\"progress\" must be a number", line);
  progress.progress = value["progress"].get<double>();
  if (auto it = value.find("total"); it != value.end() && !it->is_null()) {
    if (!it->is_number()) return bad_line("\"total\" must be a number", line);
    progress.total = it->get<double>();
  }
  if (auto it = value.find("message"); it != value.end() && !it->is_null()) {
    if (!it->is_string()) return bad_line("\"message\" must be a string", line);
    progress.message = it->get<std::string>();
  }
  return progress;
}

McpLine parse_log(const json& value, std::string_view line) {
  const json& log = value["log"];
  if (!log.is_object() || !is_log_level(log.value("level", json()))) {
    return bad_line("\"log\" needs a \"level\" (debug ... emergency)", line);
  }
  if (!log.contains("data")) return bad_line("\"log\" needs \"data\"", line);
  McpLog result{log["level"].get<std::string>(), std::nullopt, log["data"]};
  if (auto it = log.find("logger"); it != log.end() && !it->is_null()) {
    if (!it->is_string()) return bad_line("\"logger\" must be a string", line);
    result.logger = it->get<std::string>();
  }
  return result;
}

McpLine parse_request(const json& value, std::string_view line) {
  const json& request = value["request"];
  if (!request.is_object()) return bad_line("\"request\" must be an object", line);
  auto id = request.find("id");
  if (id == request.end() || !(id->is_string() || id->is_number_integer())) {
    return bad_line("\"request\" needs an \"id\" (string or integer)", line);
  }
  auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    return bad_line("\"request\" needs a \"method\"", line);
  }
  json params = json::object();
  if (auto it = request.find("params"); it != request.end() && !it->is_null()) {
    if (!it->is_object()) return bad_line("\"params\" must be an object", line);
    params = *it;
  }
  return McpRequest{*id, method->get<std::string>(), std::move(params)};
}

}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      out += bytes[i++];
    } else if (auto length = utf8_sequence_length(bytes.substr(i)); length > 0) {
      out.append(bytes.substr(i, length));
      i += length;
    } else {
      out.append(k_replacement);
      ++i;
    }
  }
  return out;
}

json text_output_result(std::string_view stdout_bytes) {
  return json{
      {"content", json::array({{{"type", "text"}, {"text", sanitize_utf8(stdout_bytes)}}})}};
}

json json_output_result(std::string_view stdout_bytes) {
  if (trim(stdout_bytes).empty()) return tool_error("tool printed invalid JSON: empty output");
  if (json_depth(stdout_bytes) > k_max_depth) {
    return tool_error("tool printed invalid JSON: nested deeper than " +
                      std::to_string(k_max_depth));
  }
  json value;
  try {
    value = json::parse(stdout_bytes);
  } catch (const json::exception& e) {
    return tool_error("tool printed invalid JSON: " + parse_error_text(e));
  }
  const std::string text = value.is_string() ? value.get<std::string>() : dump(value);
  json result{{"content", json::array({{{"type", "text"}, {"text", text}}})}};
  if (value.is_object()) result["structuredContent"] = std::move(value);
  return result;
}

void StderrTail::append(std::string_view bytes) {
  m_text.append(bytes);
  if (m_text.size() > 2 * k_keep) m_text.erase(0, m_text.size() - k_keep);
}

std::string StderrTail::summary() const {
  std::string_view text = trim(m_text);
  if (text.size() <= k_summary_chars) return sanitize_utf8(text);
  text = text.substr(text.size() - k_summary_chars);
  // Start at a line if one starts in the kept part, else mark the cut.
  if (auto newline = text.find('\n'); newline != std::string_view::npos) {
    return sanitize_utf8(trim(text.substr(newline + 1)));
  }
  while (!text.empty() && (static_cast<unsigned char>(text[0]) & 0xC0) == 0x80) {
    text.remove_prefix(1);
  }
  return "..." + sanitize_utf8(text);
}

std::string exit_message(const ExitStatus& status, const StderrTail& stderr_tail,
                         std::string_view qualifier) {
  std::string message;
  if (status.signaled) {
    message = "command killed by signal " + std::to_string(status.code);
  } else if (status.code < 0) {
    message = "command exited with an unknown status";
  } else {
    message = "command exited with status " + std::to_string(status.code);
  }
  message += qualifier;
  if (auto summary = stderr_tail.summary(); !summary.empty()) message += ": " + summary;
  return message;
}

McpLine parse_mcp_line(std::string_view line) {
  if (trim(line).empty()) return McpBlankLine{};
  if (json_depth(line) > k_max_depth) return bad_line("nested too deeply", line);
  json value = json::parse(line, nullptr, false);
  if (value.is_discarded()) return bad_line("not JSON", line);
  if (!value.is_object()) return bad_line("not a JSON object", line);
  if (value.contains("result")) {
    const json& result = value["result"];
    if (!result.is_object() || !result.contains("content") || !result["content"].is_array()) {
      return bad_line("\"result\" must be a CallToolResult with a \"content\" array", line);
    }
    return McpResult{result};
  }
  if (value.contains("progress")) return parse_progress(value, line);
  if (value.contains("log")) return parse_log(value, line);
  if (value.contains("request")) return parse_request(value, line);
  return bad_line("expected \"progress\", \"log\", \"request\" or \"result\"", line);
}

bool is_relayable_method(const std::string& method) {
  return method == "sampling/createMessage" || method == "elicitation/create" ||
         method == "roots/list";
}

}  // namespace mcpd::core
