#pragma once
// The per-request protocol fields of modern (2026-07-28) requests, read from params._meta.
// A request that names a protocol version there is served on its own, whatever came before
// it on the same connection; one that does not belongs to the legacy era (initialize).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/protocol/rpc.hpp"

namespace mcpd::core {

using json = nlohmann::json;

// As strings, not literals: nlohmann looks a literal key up by copying it into a std::string
// first, a heap block for keys this long, several times per 2026-07-28 request.
namespace meta_key {
inline const std::string k_protocol_version = "io.modelcontextprotocol/protocolVersion";
inline const std::string k_client_info = "io.modelcontextprotocol/clientInfo";
inline const std::string k_client_capabilities = "io.modelcontextprotocol/clientCapabilities";
inline const std::string k_log_level = "io.modelcontextprotocol/logLevel";
inline const std::string k_server_info = "io.modelcontextprotocol/serverInfo";
}  // namespace meta_key

struct RequestMeta {
  std::string protocol_version;
  json client_capabilities = json::object();
  json client_info = json::object();     // {} when the client did not say
  std::optional<std::string> log_level;  // none: no notifications/message at all
  std::string traceparent;               // W3C Trace Context, when given and well-formed
  std::string tracestate;

  // True when the client declared `capability` (a top-level ClientCapabilities key).
  bool declares(std::string_view capability) const;
};

// params._meta["io.modelcontextprotocol/protocolVersion"] of a request or notification when
// present (any string, even one we do not speak), so that transports can tell the eras apart
// without dispatching. A non-string value is reported as "" (a malformed modern request).
std::optional<std::string> modern_version_of(const json& message);

// Reads and checks the fields of a request that carries a version claim: -32022
// (UnsupportedProtocolVersion, data {supported, requested}) for a version we do not serve
// per request, -32602 for a missing or malformed required field.
std::variant<RequestMeta, RpcError> read_request_meta(const json& params);

// True for a W3C traceparent: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>", with
// neither id all zeros.
bool valid_traceparent(std::string_view value);

}  // namespace mcpd::core
