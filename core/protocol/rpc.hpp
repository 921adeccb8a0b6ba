#pragma once
// JSON-RPC 2.0 vocabulary: error codes, the typed protocol error, and message builders.
// Every protocol error reaches the client through make_error; internal details never do.

#include <nlohmann/json.hpp>
#include <string>

namespace mcpd::core {

using json = nlohmann::json;

namespace rpc_code {
constexpr int k_parse_error = -32700;
constexpr int k_invalid_request = -32600;
constexpr int k_method_not_found = -32601;
constexpr int k_invalid_params = -32602;
constexpr int k_internal_error = -32603;
constexpr int k_resource_not_found = -32002;  // legacy MCP: resources/read of an unknown URI
constexpr int k_request_cancelled = -32800;   // used for client requests we abandon
// MCP 2026-07-28 (the range -32020..-32099 is the specification's own).
constexpr int k_header_mismatch = -32020;               // HTTP headers contradict the body
constexpr int k_missing_client_capability = -32021;     // data.requiredCapabilities
constexpr int k_unsupported_protocol_version = -32022;  // data.supported, data.requested
}  // namespace rpc_code

struct RpcError {
  int code = rpc_code::k_internal_error;
  std::string message;
  json data = nullptr;  // omitted from the reply when null
};

// {"jsonrpc":"2.0","id":id,"result":result}
json make_result(const json& id, json result);
// {"jsonrpc":"2.0","id":id,"error":{"code","message"[,"data"]}}
json make_error(const json& id, const RpcError& error);
// {"jsonrpc":"2.0","method":method[,"params":params]}
json make_notification(std::string method, json params = nullptr);
// {"jsonrpc":"2.0","id":id,"method":method[,"params":params]}
json make_request(const json& id, std::string method, json params = nullptr);

}  // namespace mcpd::core
