#pragma once
// How the exec handler reads what a child printed: the text and json output modes, the
// JSON lines of the mcp mode, and the short stderr summary used in error messages.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/handlers/process.hpp"

namespace mcpd::core {

using json = nlohmann::json;

// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

// output "text": stdout as one text content block.
json text_output_result(std::string_view stdout_bytes);
// output "json": an object becomes structuredContent plus its compact text; a string its
// text; any other value its compact text. Unparsable output is a tool error.
json json_output_result(std::string_view stdout_bytes);

// The last few KiB of a child's stderr.
class StderrTail {
 public:
  static constexpr std::size_t k_keep = 4096;
  void append(std::string_view bytes);
  const std::string& text() const noexcept { return m_text; }
  // The last line(s), trimmed to about 300 characters, valid UTF-8; empty when none.
  std::string summary() const;

 private:
  std::string m_text;
};

// "command exited with status N<qualifier>: <stderr>" / "command killed by signal N...".
std::string exit_message(const ExitStatus& status, const StderrTail& stderr_tail,
                         std::string_view qualifier = {});

// One line of output "mcp".
struct McpProgress {
  double progress = 0;
  std::optional<double> total;
  std::optional<std::string> message;
};
struct McpLog {
  std::string level;
  std::optional<std::string> logger;
  json data;
};
struct McpRequest {
  json id;  // the child's id, echoed in the answer
  std::string method;
  json params;
};
struct McpResult {
  json result;  // a CallToolResult: an object with a "content" array
};
struct McpBadLine {
  std::string message;  // "bad output line: ..."
};
struct McpBlankLine {};
using McpLine = std::variant<McpBlankLine, McpProgress, McpLog, McpRequest, McpResult, McpBadLine>;

McpLine parse_mcp_line(std::string_view line);

// Server-to-client requests an exec child may relay.
bool is_relayable_method(const std::string& method);

}  // namespace mcpd::core
