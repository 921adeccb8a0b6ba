// Fuzzes what an exec child prints: each input line goes through parse_mcp_line (output
// mode "mcp"), and the whole input through the text and json output modes and the stderr
// summary, as the exec handler reads them (core/handlers/exec_output.hpp).
//
// Invariants: every parsed line becomes something that can be sent to a client (its JSON
// serializes: valid UTF-8), a result carries a content array, a log line a known level, a
// request a relayable-or-not method name; sanitize_utf8 yields valid UTF-8; the output
// modes give a CallToolResult with a content array; a stderr summary is valid UTF-8 and short.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "core/handlers/exec_output.hpp"
#include "core/handlers/runner.hpp"
#include "core/protocol/session.hpp"
#include "core/util/utf8.hpp"

using namespace mcpd::core;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// What the handler would send: the value must serialize (nlohmann throws on invalid UTF-8).
void sendable(const json& value) { (void)value.dump(); }

void check_result(const json& result) {
  check(result.is_object() && result.contains("content") && result["content"].is_array(),
        "a CallToolResult has a content array");
  sendable(result);
}

void line(std::string_view text) {
  const McpLine parsed = parse_mcp_line(text);
  if (const auto* progress = std::get_if<McpProgress>(&parsed)) {
    json p{{"progress", progress->progress}};
    if (progress->total) p["total"] = *progress->total;
    if (progress->message) p["message"] = *progress->message;
    sendable(p);
  } else if (const auto* log = std::get_if<McpLog>(&parsed)) {
    check(is_log_level(log->level), "a log line has a known level");
    json l{{"level", log->level}, {"data", log->data}};
    if (log->logger) l["logger"] = *log->logger;
    sendable(l);
  } else if (const auto* request = std::get_if<McpRequest>(&parsed)) {
    (void)is_relayable_method(request->method);
    sendable(json{{"id", request->id}, {"method", request->method}, {"params", request->params}});
  } else if (const auto* result = std::get_if<McpResult>(&parsed)) {
    check_result(result->result);
  } else if (const auto* bad = std::get_if<McpBadLine>(&parsed)) {
    check(!bad->message.empty(), "a bad line says why");
    sendable(tool_error(bad->message));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view whole = input;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    line(input.substr(0, end));
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
  }

  sendable(json(sanitize_utf8(whole)));
  check_result(text_output_result(whole));
  check_result(json_output_result(whole));
  StderrTail tail;
  tail.append(whole.substr(0, whole.size() / 2));
  tail.append(whole.substr(whole.size() / 2));
  check(tail.text().size() <= StderrTail::k_keep, "the tail keeps at most k_keep bytes");
  const std::string summary = tail.summary();
  check(summary.size() <= 3 * 300 + 3, "a summary is short");
  sendable(json(summary));
  return 0;
}
