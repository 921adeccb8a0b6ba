#include "core/protocol/rpc.hpp"

namespace mcpd::core {

// The messages are built member by member: a braced initializer list copies every pair
// through a temporary array (and the result with it), a dozen allocations per reply.

namespace {

json envelope() {
  json message(json::value_t::object);
  message.emplace("jsonrpc", "2.0");
  return message;
}

}  // namespace

json make_result(json id, json result) {
  json message = envelope();
  message.emplace("id", std::move(id));
  message.emplace("result", std::move(result));
  return message;
}

bool Reply::has_error() const {
  if (m_parts) return false;
  if (m_tree.is_object()) return m_tree.contains("error");
  if (m_tree.is_array())
    for (const auto& element : m_tree)
      if (element.is_object() && element.contains("error")) return true;
  return false;
}

json Reply::to_json() && {
  return m_parts ? make_result(std::move(m_id), std::move(m_result)) : std::move(m_tree);
}

json make_error(const json& id, const RpcError& error) {
  json body(json::value_t::object);
  body.emplace("code", error.code);
  body.emplace("message", error.message);
  if (!error.data.is_null()) body.emplace("data", error.data);
  json message = envelope();
  message.emplace("id", id);
  message.emplace("error", std::move(body));
  return message;
}

json make_notification(std::string method, json params) {
  json message = envelope();
  message.emplace("method", std::move(method));
  if (!params.is_null()) message.emplace("params", std::move(params));
  return message;
}

json make_request(const json& id, std::string method, json params) {
  json message = envelope();
  message.emplace("id", id);
  message.emplace("method", std::move(method));
  if (!params.is_null()) message.emplace("params", std::move(params));
  return message;
}

}  // namespace mcpd::core
