// tools/list and tools/call.

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/protocol/dispatcher_internal.hpp"

namespace mcpd::core::detail {

namespace {

// Drops the fields a client of an older protocol revision does not know.
json adapt_tool(const json& descriptor, const std::string& version) {
  json tool = descriptor;
  if (!version_at_least(version, "2025-03-26")) tool.erase("annotations");
  if (!version_at_least(version, "2025-06-18")) {
    tool.erase("title");
    tool.erase("outputSchema");
  }
  if (!version_at_least(version, "2025-11-25")) {
    tool.erase("icons");
    tool.erase("execution");
  }
  // 2026-07-28 moved tasks (and with them `execution`) out of the core protocol.
  if (is_modern_version(version)) tool.erase("execution");
  return tool;
}

// Both an unknown tool and a tool outside the token's allow-list get the same refusal, so a
// restricted token cannot probe which tools exist; the log says which it was.
const ToolDef& resolve_tool(const Request& request, const std::string& name,
                            const Identity& identity) {
  const ToolDef* tool = request.catalog.find_tool(name);
  if (tool && identity.can_use_tool(name)) return *tool;
  if (tool)
    spdlog::warn("tools/call of '{}' refused: not in the allow-list of token '{}'", name,
                 identity.token_name.value_or("-"));
  throw invalid_params("unknown tool: " + clip(name));
}

// The arguments with the inputSchema's defaults filled in for absent properties: the request's
// own when nothing is missing (no copy of them per call), else a completed copy in `storage`.
const json& prepare_arguments(const ToolDef& tool, const json& params, json& storage) {
  static const json k_none = json::object();
  const json* given = &k_none;
  const auto it = params.find("arguments");
  if (it != params.end() && !it->is_null()) {
    if (!it->is_object()) throw invalid_params("arguments must be an object");
    given = &*it;
  }
  bool complete = true;
  for (const auto& [key, value] : tool.defaults.items())
    if (!given->contains(key)) complete = false;
  if (complete) return *given;
  storage = *given;
  for (const auto& [key, value] : tool.defaults.items())
    if (!storage.contains(key)) storage[key] = value;
  return storage;
}

// Placeholder values: every declared parameter (absent ones null), plus the arguments. When
// every parameter is present that is the arguments themselves, and `storage` stays unused.
const json& placeholder_values(const ToolDef& tool, const json& arguments, json& storage) {
  bool complete = true;
  for (const auto& name : tool.parameters)
    if (!arguments.contains(name)) complete = false;
  if (complete) return arguments;
  storage = json::object();
  for (const auto& name : tool.parameters) storage[name] = nullptr;
  for (const auto& [key, value] : arguments.items()) storage[key] = value;
  return storage;
}

// A key of more than 15 characters, looked up as a literal, would be copied to the heap for
// each lookup.
const std::string k_structured_content = "structuredContent";

bool is_error_result(const json& result) {
  const auto it = result.find("isError");
  return it != result.end() && it->is_boolean() && it->get<bool>();
}

// Makes sure a handler's answer is a CallToolResult the client can rely on: content present
// (the serialized structuredContent when the handler gave only that, as the spec advises) and
// structuredContent matching the tool's outputSchema.
json check_result(const ToolDef& tool, json result) {
  if (!result.is_object() || !result.contains("content") || !result["content"].is_array()) {
    spdlog::error("tool '{}' handler returned a malformed result", tool.name);
    return tool_error("the tool returned a malformed result");
  }
  const auto structured = result.find(k_structured_content);
  if (result["content"].empty() && structured != result.end())
    result["content"].push_back({{"type", "text"}, {"text", structured->dump()}});
  if (!tool.output_schema || is_error_result(result)) return result;

  if (structured == result.end() || !structured->is_object())
    return tool_error("the tool declares an outputSchema but returned no structuredContent");
  if (auto problem = tool.output_schema->validate(*structured, "field")) {
    spdlog::warn("tool '{}' result does not match its outputSchema: {}", tool.name, *problem);
    return tool_error("the tool's structuredContent does not match its outputSchema: " + *problem);
  }
  return result;
}

// structuredContent arrived with 2025-06-18; older clients read the text content instead.
void adapt_result(json& result, const std::string& version) {
  if (!version_at_least(version, "2025-06-18")) result.erase(k_structured_content);
}

}  // namespace

Result tools_list(const Request& request) {
  // An invalid identity (revoked or expired token) is offered no tools; tools/call tells why.
  const auto identity = request.session.identity();
  std::vector<const ToolDef*> visible;
  for (const auto& tool : request.catalog.tools)
    if (identity->can_use_tool(tool.name)) visible.push_back(&tool);

  const Page page = paginate(request, "tools", visible.size());
  const std::string version = request_version(request);
  json tools = json::array();
  for (std::size_t i = page.begin; i < page.end; ++i)
    tools.push_back(adapt_tool(visible[i]->descriptor, version));
  json result{{"tools", std::move(tools)}};
  add_next_cursor(result, page);
  return result;
}

Result tools_call(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  const std::string& name = require_string(request.params, "name");
  const auto identity = request.session.identity();
  // MCP has no authorization error code; -32600 (the request cannot be served as sent) with
  // the token's problem is the closest, and it is not a tool error the model should retry.
  if (!identity->valid)
    throw RpcError{rpc_code::k_invalid_request, "access denied: " + identity->invalid_reason};
  const ToolDef& tool = resolve_tool(request, name, *identity);
  json arguments_storage;
  const json& arguments = prepare_arguments(tool, request.params, arguments_storage);
  const StateSubject subject{"tools/call", tool.name, arguments};
  const json answers = retry_answers(request, subject);
  const InFlight in_flight(request.session, request.id);

  const std::string version = request_version(request);
  json result;
  if (auto problem = tool.input_schema ? tool.input_schema->validate(arguments) : std::nullopt) {
    // Per the spec, input validation errors are tool execution errors the model can fix.
    result = tool_error(*problem);
  } else {
    SessionChannel channel(request, in_flight.token(), request_deadline(tool.handler), answers);
    CallContext ctx =
        call_context(request, tool.name, *identity, in_flight.token(), channel, answers);
    json values_storage;
    result = request.runner.run(tool.handler, tool.base_dir, arguments,
                                placeholder_values(tool, arguments, values_storage), ctx);
    // A cancelled call asks nothing more; it is still counted below (as an error).
    if (!in_flight.token().cancelled()) {
      if (auto asking = channel.finish(request, subject)) {
        spdlog::info("tools/call {} needs input from the client ({} question(s))", tool.name,
                     (*asking)["inputRequests"].size());
        return asking;
      }
      result = check_result(tool, std::move(result));
    }
  }

  const bool cancelled = in_flight.token().cancelled();
  const bool is_error = cancelled || is_error_result(result);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (request.observer) request.observer->tool_called(tool.name, is_error, seconds);
  spdlog::info("tools/call {} {} in {:.3f}s", tool.name,
               cancelled ? "cancelled" : (is_error ? "failed" : "ok"), seconds);
  // The spec asks receivers of notifications/cancelled not to answer the request.
  if (cancelled) return std::nullopt;
  adapt_result(result, version);
  return result;
}

}  // namespace mcpd::core::detail
