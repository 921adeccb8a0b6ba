#include <spdlog/spdlog.h>

#include "core/protocol/rpc.hpp"
#include "transports/http/modern_policy.hpp"
#include "transports/http/server_context.hpp"

namespace mcpd::transports::http {

unsigned reply_status(const json& body, const core::Reply& reply, bool modern) {
  const json* tree = reply.tree();
  if (!tree) return 200;  // a result
  if (body.is_array() && tree->is_object() && tree->contains("error")) return 400;
  return modern ? modern_reply_status(*tree) : 200;
}

std::optional<core::Reply> dispatch_message(ServerContext& ctx, const json& body,
                                            core::Session& session,
                                            const std::string& correlation_id) {
  std::optional<core::Reply> reply;
  try {
    reply = ctx.dispatcher.reply(body, session, correlation_id);
  } catch (const std::exception& e) {
    spdlog::error("dispatcher failed: {}", e.what());
    const core::RpcError error{core::rpc_code::k_internal_error, "internal error", nullptr};
    const RequestIds ids = request_ids(body);
    if (!body.is_array()) {
      if (!ids.empty()) reply = core::make_error(ids[0], error);
    } else if (!ids.empty()) {
      json replies = json::array();
      for (const auto& id : ids) replies.push_back(core::make_error(id, error));
      reply = std::move(replies);
    }
  }
  if (reply && ctx.metrics && reply->has_error()) ctx.metrics->error();
  return reply;
}

}  // namespace mcpd::transports::http
