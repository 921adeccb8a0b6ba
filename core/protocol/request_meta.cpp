#include "core/protocol/request_meta.hpp"

#include <algorithm>

#include "core/protocol/protocol_version.hpp"
#include "core/protocol/session.hpp"

namespace mcpd::core {

namespace {

const json* meta_of(const json& params) {
  if (!params.is_object()) return nullptr;
  const auto meta = params.find("_meta");
  return meta != params.end() && meta->is_object() ? &*meta : nullptr;
}

RpcError invalid_meta(const std::string& key, const std::string& problem) {
  return RpcError{rpc_code::k_invalid_params,
                  "Invalid _meta for protocol revision " + std::string(k_first_modern_version) +
                      ": " + key + " " + problem,
                  json{{"key", key}, {"problem", problem}}};
}

bool hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool RequestMeta::declares(std::string_view capability) const {
  return client_capabilities.is_object() &&
         client_capabilities.find(capability) != client_capabilities.end();
}

std::optional<std::string> modern_version_of(const json& message) {
  if (!message.is_object()) return std::nullopt;
  const auto params = message.find("params");
  if (params == message.end()) return std::nullopt;
  const json* meta = meta_of(*params);
  if (!meta) return std::nullopt;
  const auto version = meta->find(meta_key::k_protocol_version);
  if (version == meta->end()) return std::nullopt;
  return version->is_string() ? version->get<std::string>() : std::string();
}

std::variant<RequestMeta, RpcError> read_request_meta(const json& params) {
  const json* meta = meta_of(params);
  if (!meta) return invalid_meta("_meta", "is missing");
  RequestMeta out;

  const auto version = meta->find(meta_key::k_protocol_version);
  if (version == meta->end()) return invalid_meta(meta_key::k_protocol_version, "is missing");
  if (!version->is_string()) return invalid_meta(meta_key::k_protocol_version, "must be a string");
  out.protocol_version = version->get<std::string>();
  if (!is_supported_modern_version(out.protocol_version)) {
    json supported = json::array();
    // Only what can be named per request: legacy revisions are negotiated by initialize, and
    // a client retries with one of these (they are what server/discover lists).
    for (const auto& v : modern_protocol_versions()) supported.push_back(v);
    return RpcError{rpc_code::k_unsupported_protocol_version, "Unsupported protocol version",
                    json{{"supported", std::move(supported)}, {"requested", out.protocol_version}}};
  }

  const auto capabilities = meta->find(meta_key::k_client_capabilities);
  if (capabilities == meta->end())
    return invalid_meta(meta_key::k_client_capabilities, "is missing");
  if (!capabilities->is_object())
    return invalid_meta(meta_key::k_client_capabilities, "must be an object");
  out.client_capabilities = *capabilities;

  if (const auto info = meta->find(meta_key::k_client_info); info != meta->end()) {
    if (!info->is_object()) return invalid_meta(meta_key::k_client_info, "must be an object");
    out.client_info = *info;
  }
  if (const auto level = meta->find(meta_key::k_log_level); level != meta->end()) {
    if (!level->is_string() || !is_log_level(level->get_ref<const std::string&>()))
      return invalid_meta(meta_key::k_log_level, "must be a log level (debug ... emergency)");
    out.log_level = level->get<std::string>();
  }
  // Trace context is advisory: a malformed one is ignored, never an error.
  if (const auto parent = meta->find("traceparent");
      parent != meta->end() && parent->is_string() &&
      valid_traceparent(parent->get_ref<const std::string&>())) {
    out.traceparent = parent->get<std::string>();
    if (const auto state = meta->find("tracestate");
        state != meta->end() && state->is_string() &&
        state->get_ref<const std::string&>().size() <= 512)
      out.tracestate = state->get<std::string>();
  }
  return out;
}

bool valid_traceparent(std::string_view value) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  if (value.size() != 55 || value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  const auto version = value.substr(0, 2), trace = value.substr(3, 32),
             parent = value.substr(36, 16), flags = value.substr(53, 2);
  if (!hex(version) || !hex(trace) || !hex(parent) || !hex(flags) || version == "ff") return false;
  return trace.find_first_not_of('0') != std::string_view::npos &&
         parent.find_first_not_of('0') != std::string_view::npos;
}

}  // namespace mcpd::core
