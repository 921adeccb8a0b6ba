#include <spdlog/spdlog.h>

#include "core/protocol/rpc.hpp"
#include "transports/http/modern_policy.hpp"
#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

namespace {

bool has_error(const json& reply) {
  if (reply.is_object()) return reply.contains("error");
  if (reply.is_array())
    for (const auto& element : reply)
      if (element.is_object() && element.contains("error")) return true;
  return false;
}

}  // namespace

unsigned reply_status(const json& body, const json& reply, bool modern) {
  if (body.is_array() && reply.is_object() && reply.contains("error")) return 400;
  return modern ? modern_reply_status(reply) : 200;
}

std::optional<json> dispatch_message(ServerContext& ctx, const json& body, core::Session& session,
                                     const std::string& correlation_id) {
  std::optional<json> reply;
  try {
    reply = ctx.dispatcher.handle(body, session, correlation_id);
  } catch (const std::exception& e) {
    spdlog::error("dispatcher failed: {}", e.what());
    const core::RpcError error{core::rpc_code::k_internal_error, "internal error", nullptr};
    const RequestIds ids = request_ids(body);
    if (!body.is_array()) {
      if (!ids.empty()) reply = core::make_error(ids[0], error);
    } else if (!ids.empty()) {
      reply = json::array();
      for (const auto& id : ids) reply->push_back(core::make_error(id, error));
    }
  }
  if (reply && ctx.metrics && has_error(*reply)) ctx.metrics->error();
  return reply;
}

}  // namespace mcpd::transports::http
