#pragma once
// JSON-RPC 2.0 vocabulary: error codes, the typed protocol error, and message builders.
// Every protocol error reaches the client through make_error; internal details never do.

#include <nlohmann/json.hpp>
#include <string>

#include "core/util/json_release.hpp"

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
json make_result(json id, json result);

// What the dispatcher answers a message with. A successful response is kept as its two parts,
// id and result, and written around them: its envelope is never built as a tree (an object,
// three members and the "2.0" string, per call). Errors and a batch's array are trees.
class Reply {
 public:
  // An error or a batch's array, as a tree: implicit, so make_error's value is a Reply.
  Reply(json tree) : m_tree(std::move(tree)) {}
  // A result: the request's id and the method's result.
  Reply(const json& id, json result) : m_id(id), m_result(std::move(result)), m_parts(true) {}

  // The reply as one tree when it was built as one (an error, a batch); null for a result
  // kept as parts, which is never an error.
  const json* tree() const { return m_parts ? nullptr : &m_tree; }
  // An error response, or a batch that holds one.
  bool has_error() const;
  // The whole reply as a tree (make_result of the parts).
  json to_json() &&;
  // Tears its trees down (core::release) once the reply is written.
  void release() noexcept {
    core::release(m_tree);
    core::release(m_id);
    core::release(m_result);
  }
  // Appends the reply's JSON text to `out`, exactly as serializing to_json() would: `dump`
  // appends one value's text (the caller's serializer and settings).
  template <class Dump>
  void write(std::string& out, Dump&& dump) const {
    if (!m_parts) return dump(out, m_tree);
    out += "{\"id\":";  // the members in nlohmann's order: id, jsonrpc, result
    dump(out, m_id);
    out += ",\"jsonrpc\":\"2.0\",\"result\":";
    dump(out, m_result);
    out += '}';
  }

 private:
  json m_tree;
  json m_id;
  json m_result;
  bool m_parts = false;
};

// {"jsonrpc":"2.0","id":id,"error":{"code","message"[,"data"]}}
json make_error(const json& id, const RpcError& error);
// {"jsonrpc":"2.0","method":method[,"params":params]}
json make_notification(std::string method, json params = nullptr);
// {"jsonrpc":"2.0","id":id,"method":method[,"params":params]}
json make_request(const json& id, std::string method, json params = nullptr);

}  // namespace mcpd::core
