// JSON-RPC framing, batches, the lifecycle, and routing to the feature methods
// (dispatcher_tools.cpp, dispatcher_content.cpp).

#include "core/protocol/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <unordered_map>
#include <variant>

#include "core/observability/log.hpp"
#include "core/protocol/dispatcher_internal.hpp"
#include "core/protocol/request_meta.hpp"
#include "core/util/json_reader.hpp"

namespace mcpd::core {

namespace {

using detail::Request;
using detail::Result;

json server_capabilities(const Catalog& catalog, const std::string& version) {
  json capabilities{{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
  // The completions capability arrived with 2025-03-26; completion/complete works regardless.
  if (detail::version_at_least(version, "2025-03-26")) capabilities["completions"] = json::object();
  if (!catalog.resources.empty() || !catalog.resource_templates.empty())
    capabilities["resources"] = {{"subscribe", true}, {"listChanged", false}};
  if (!catalog.prompts.empty()) capabilities["prompts"] = {{"listChanged", false}};
  if (is_modern_version(version)) capabilities["extensions"] = json::object();
  return capabilities;
}

json server_info_of(const ServerInfo& info, const std::string& version) {
  // Member by member: a braced initializer copies every pair through temporaries (a 2026-07-28
  // result carries this in every reply).
  json server_info(json::value_t::object);
  server_info.emplace("name", info.name);
  server_info.emplace("version", info.version);
  if (!info.title.empty() && detail::version_at_least(version, "2025-06-18"))
    server_info.emplace("title", info.title);
  return server_info;
}

Result initialize(const Request& request) {
  const std::string& requested = detail::require_string(request.params, "protocolVersion");
  json client_capabilities = detail::optional_object(request.params, "capabilities");
  json client_info = detail::optional_object(request.params, "clientInfo");

  // Echo the client's version when we speak it, else offer our newest and let it decide.
  const auto& versions = legacy_protocol_versions();
  const bool supported = std::find(versions.begin(), versions.end(), requested) != versions.end();
  const std::string version = supported ? requested : versions.front();
  spdlog::info("client {} {} initialized with protocol {}{}",
               client_info.value("name", "(unnamed)"), client_info.value("version", ""), version,
               supported ? "" : " (asked for " + detail::clip(requested, 32) + ")");
  request.session.set_initialized(version, std::move(client_capabilities), std::move(client_info));

  const ServerInfo& info = request.options.info;
  json result{{"protocolVersion", version},
              {"capabilities", server_capabilities(request.catalog, version)},
              {"serverInfo", server_info_of(info, version)}};
  if (!info.instructions.empty()) result["instructions"] = info.instructions;
  return result;
}

// 2026-07-28: what the server speaks and offers (also how a client probes a stdio server's
// era: a legacy server answers it with an error).
Result discover(const Request& request) {
  json versions = json::array();
  for (const auto& v : modern_protocol_versions()) versions.push_back(v);
  json result{
      {"supportedVersions", std::move(versions)},
      {"capabilities", server_capabilities(request.catalog, modern_protocol_versions().front())}};
  if (!request.options.info.instructions.empty())
    result["instructions"] = request.options.info.instructions;
  return result;
}

Result ping(const Request&) {
  return json::object();
}

Result set_log_level(const Request& request) {
  const std::string& level = detail::require_string(request.params, "level");
  if (!is_log_level(level))
    throw detail::invalid_params("invalid log level: " + detail::clip(level, 32));
  request.session.set_log_level(level);
  return json::object();
}

using Method = Result (*)(const Request&);

// The methods of both eras. Legacy-only ones are refused for 2026-07-28 requests
// (modern_method), which carry their log level and capabilities themselves.
const std::unordered_map<std::string_view, Method>& methods() {
  static const std::unordered_map<std::string_view, Method> table{
      {"initialize", initialize},
      {"server/discover", discover},
      {"ping", ping},
      {"logging/setLevel", set_log_level},
      {"tools/list", detail::tools_list},
      {"tools/call", detail::tools_call},
      {"resources/list", detail::resources_list},
      {"resources/templates/list", detail::resource_templates_list},
      {"resources/read", detail::resources_read},
      {"resources/subscribe",
       [](const Request& r) { return detail::resources_subscribe(r, true); }},
      {"resources/unsubscribe",
       [](const Request& r) { return detail::resources_subscribe(r, false); }},
      {"prompts/list", detail::prompts_list},
      {"prompts/get", detail::prompts_get},
      {"completion/complete", detail::completion_complete},
      {"subscriptions/listen", detail::subscriptions_listen},
  };
  return table;
}

bool legacy_only(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "logging/setLevel" ||
         method == "resources/subscribe" || method == "resources/unsubscribe";
}

// Results of these may be reused by the client for ttlMs (2026-07-28 CacheableResult).
bool cacheable(std::string_view method) {
  return method == "tools/list" || method == "prompts/list" || method == "resources/list" ||
         method == "resources/templates/list" || method == "resources/read" ||
         method == "server/discover";
}

// The fields every 2026-07-28 result carries: resultType, cache hints on cacheable results
// (a handler's own hints win), and who answered.
void finish_modern_result(json& result, std::string_view method, const Request& request) {
  if (!result.contains("resultType")) result["resultType"] = "complete";
  // As a string: comparing the json with a literal makes a json of the literal first.
  const json& type = result["resultType"];
  if (type.is_string() && type.get_ref<const std::string&>() == "complete" && cacheable(method)) {
    if (!result.contains("ttlMs")) result["ttlMs"] = request.options.cache_ttl_ms;
    if (!result.contains("cacheScope")) result["cacheScope"] = detail::cache_scope(request);
  }
  json& meta = result["_meta"];
  if (!meta.is_object()) meta = json::object();
  if (!meta.contains(meta_key::k_server_info))
    meta[meta_key::k_server_info] =
        server_info_of(request.options.info, detail::request_version(request));
}

void handle_notification(const std::string& method, const json& params, Session& session,
                         SubscriptionHub& subscriptions) {
  if (method == "notifications/cancelled") {
    const auto id = params.find("requestId");
    if (id == params.end() || !(id->is_string() || id->is_number_integer())) return;
    spdlog::debug("client cancelled request {}: {}", id->dump(),
                  params.value("reason", std::string("(no reason)")));
    if (subscriptions.end(&session, *id)) return;  // a listen: nothing more is sent for it
    session.cancel_request(*id);
  } else if (method == "notifications/initialized") {
    spdlog::debug("client confirmed initialization");
  } else {
    // roots/list_changed, progress and anything unknown: nothing to do, and never a reply.
    spdlog::debug("ignoring notification {}", detail::clip(method, 64));
  }
}

// True when `value` nests containers deeper than `limit` levels. The recursion itself is
// bounded by `limit`.
bool nested_deeper_than(const json& value, int limit) {
  if (!value.is_structured()) return false;
  if (limit <= 0) return true;
  for (const auto& child : value)
    if (nested_deeper_than(child, limit - 1)) return true;
  return false;
}

RpcError invalid_request(std::string message) {
  return RpcError{rpc_code::k_invalid_request, std::move(message)};
}

const json k_no_id = nullptr;

// One message's JSON-RPC 2.0 envelope, checked.
struct Envelope {
  enum class Kind { request, notification, response, client_error, invalid };
  Kind kind = Kind::invalid;
  // The id to answer with: the message's when usable (pointing into it, not a copy), else null.
  const json* id = &k_no_id;
  const std::string* method = nullptr;
  const json* params = nullptr;  // an object (empty when absent or an array)
  bool array_params = false;     // JSON-RPC allows them; no MCP method takes them
  std::string problem;           // why it is invalid
};

Envelope read_envelope(const json& message) {
  static const json k_no_params = json::object();
  Envelope envelope;
  auto invalid = [&](std::string problem) {
    envelope.kind = Envelope::Kind::invalid;
    envelope.problem = "invalid request: " + std::move(problem);
    return envelope;
  };
  if (!message.is_object()) return invalid("not an object");
  const auto id = message.find("id");
  const bool has_id = id != message.end();
  // JSON-RPC ids are strings or numbers; MCP narrows numbers to integers and forbids null.
  const bool usable_id = has_id && (id->is_string() || id->is_number_integer());
  if (usable_id) envelope.id = &*id;

  const auto version = message.find("jsonrpc");
  // As a string: comparing the json with a literal makes a json of the literal first.
  if (version == message.end() || !version->is_string() ||
      version->get_ref<const std::string&>() != "2.0")
    return invalid("jsonrpc must be \"2.0\"");
  const auto method = message.find("method");
  if (method == message.end()) {
    envelope.kind = Envelope::Kind::response;
    if (usable_id && message.contains("result") != message.contains("error")) return envelope;
    // The client could not read one of our requests (it cannot say which).
    envelope.kind = Envelope::Kind::client_error;
    if (has_id && id->is_null() && message.contains("error")) return envelope;
    return invalid("method missing");
  }
  if (!method->is_string()) return invalid("method must be a string");
  if (has_id && !usable_id) return invalid("id must be a string or an integer");
  const auto params = message.find("params");
  const bool has_params = params != message.end();
  if (has_params && !params->is_object() && !params->is_array())
    return invalid("params must be an object or an array");

  envelope.kind = has_id ? Envelope::Kind::request : Envelope::Kind::notification;
  envelope.method = &method->get_ref<const std::string&>();
  envelope.array_params = has_params && params->is_array();
  envelope.params = has_params && params->is_object() ? &*params : &k_no_params;
  return envelope;
}

// Why `method` cannot be served in the session's lifecycle state, if it cannot.
std::optional<std::string> lifecycle_refusal(const std::string& method, bool in_batch,
                                             const Session& session) {
  if (method == "initialize") {
    // 2025-03-26 forbids initialize inside a batch; a second one would renegotiate midway.
    if (in_batch) return "invalid request: initialize must not be part of a batch";
    if (session.initialized()) return "invalid request: session already initialized";
  } else if (method != "ping" && !session.initialized()) {
    // The spec only says clients SHOULD NOT send these before initialize; the SDKs refuse
    // them with different codes (or none). The request is not valid in this state: -32600.
    return "invalid request: session not initialized";
  }
  return std::nullopt;
}

// JSON-RPC batches belong to MCP 2024-11-05 and 2025-03-26; 2025-06-18 removed them. This is
// the one rule, for every transport: a batch is judged by the version it is spoken in, which
// is the session's negotiated one, or the per-request claim of any element (a 2026-07-28
// request carries one). Before initialize there is no version: initialize itself may not be
// batched and nothing but ping may precede it, so such a batch is refused too.
std::optional<std::string> batch_refusal(const json& batch, const Session& session) {
  const auto refused = [](std::string_view version) {
    return "invalid request: batches are not supported by protocol version " +
           detail::clip(version, 32);
  };
  for (const auto& element : batch)
    if (const auto claimed = modern_version_of(element))
      return refused(claimed->empty() ? k_first_modern_version : *claimed);
  if (!session.initialized())
    return std::string("invalid request: batches are not supported before initialize");
  const std::string version = session.protocol_version();
  if (version.empty() || version >= "2025-06-18") return refused(version);
  return std::nullopt;
}

}  // namespace

Dispatcher::Dispatcher(std::shared_ptr<const Catalog> catalog,
                       std::shared_ptr<HandlerRunner> runner, DispatcherOptions options)
    : m_catalog(std::move(catalog)),
      m_runner(std::move(runner)),
      m_options(std::move(options)),
      m_sealer(m_options.state_key) {}

std::optional<json> Dispatcher::handle(const json& message, Session& session,
                                       const std::string& correlation_id) {
  auto answer = reply(message, session, correlation_id);
  if (!answer) return std::nullopt;
  return std::move(*answer).to_json();
}

std::optional<Reply> Dispatcher::reply(const json& message, Session& session,
                                       const std::string& correlation_id) {
  if (correlation_id.empty()) {
    // Transports bind their own id; without one, every log line of this message and its
    // handler still share a fresh one.
    const std::string generated = log::new_correlation_id();
    const log::CorrelationScope scope(generated);
    return reply(message, session, generated);
  }
  if (nested_deeper_than(message, m_options.max_json_depth))
    return make_error(nullptr, invalid_request("invalid request: JSON nested too deeply"));
  if (!message.is_array()) return handle_one(message, session, correlation_id, false);

  if (message.empty()) return make_error(nullptr, invalid_request("invalid request: empty batch"));
  if (auto refusal = batch_refusal(message, session))
    return make_error(nullptr, invalid_request(std::move(*refusal)));
  json replies = json::array();
  for (const auto& element : message)
    if (auto answer = handle_one(element, session, correlation_id, true))
      replies.push_back(std::move(*answer).to_json());
  if (replies.empty()) return std::nullopt;  // only notifications and responses
  return replies;
}

Dispatcher::Parsed Dispatcher::parse(std::string_view text) const {
  json message;
  switch (read_json(text, message, m_options.max_json_depth)) {
    case JsonRead::ok:
      return {std::move(message), nullptr};
    case JsonRead::too_deep:
      return {std::nullopt,
              make_error(nullptr, invalid_request("invalid request: JSON nested too deeply"))};
    case JsonRead::malformed:
      break;
  }
  return {std::nullopt, make_error(nullptr, RpcError{rpc_code::k_parse_error, "parse error"})};
}

std::optional<json> Dispatcher::handle_text(std::string_view text, Session& session,
                                            const std::string& correlation_id) {
  Parsed parsed = parse(text);
  if (!parsed.message) return std::move(parsed.refusal);
  return handle(*parsed.message, session, correlation_id);
}

std::optional<Reply> Dispatcher::handle_one(const json& message, Session& session,
                                            const std::string& correlation_id, bool in_batch) {
  const Envelope envelope = read_envelope(message);
  switch (envelope.kind) {
    case Envelope::Kind::invalid:
      return make_error(*envelope.id, invalid_request(envelope.problem));
    case Envelope::Kind::response:
      if (!session.deliver_response(message))
        spdlog::debug("response for unknown request {} ignored", envelope.id->dump());
      return std::nullopt;
    case Envelope::Kind::client_error:
      spdlog::warn("client reported an error without id: {}", message["error"].dump());
      return std::nullopt;
    case Envelope::Kind::notification:
      handle_notification(*envelope.method, *envelope.params, session, m_subscriptions);
      return std::nullopt;
    case Envelope::Kind::request:
      break;
  }

  const std::string& method = *envelope.method;
  // A version claim in _meta makes this a 2026-07-28 request, served on its own: its
  // session's lifecycle, version and log level do not apply.
  std::optional<RequestMeta> meta;
  if (modern_version_of(message)) {
    auto read = read_request_meta(*envelope.params);
    if (const auto* error = std::get_if<RpcError>(&read)) return make_error(*envelope.id, *error);
    meta = std::move(std::get<RequestMeta>(read));
  }
  const auto entry = methods().find(method);
  if (entry == methods().end() || (meta && legacy_only(method)))
    return make_error(*envelope.id, RpcError{rpc_code::k_method_not_found,
                                            "method not found: " + detail::clip(method, 64)});
  if (envelope.array_params)
    return make_error(*envelope.id, detail::invalid_params("params must be an object"));
  // server/discover is a 2026-07-28 method: without the per-request fields it is malformed.
  // (Without a version claim, reading the fields always fails.)
  if (!meta && method == "server/discover")
    return make_error(*envelope.id, std::get<RpcError>(read_request_meta(*envelope.params)));
  if (!meta)
    if (auto refusal = lifecycle_refusal(method, in_batch, session))
      return make_error(*envelope.id, invalid_request(*refusal));

  // A W3C trace context names the request for the logs and the handlers.
  std::string trace_id;
  std::optional<log::CorrelationScope> trace_scope;
  if (meta && !meta->traceparent.empty()) {
    trace_id = meta->traceparent.substr(3, 32);
    trace_scope.emplace(trace_id);
  }
  try {
    const Request request{*m_catalog,
                          *m_runner,
                          m_options,
                          m_observer.get(),
                          session,
                          *envelope.id,
                          *envelope.params,
                          trace_id.empty() ? correlation_id : trace_id,
                          meta ? &*meta : nullptr,
                          &m_subscriptions,
                          &m_sealer};
    auto result = entry->second(request);
    if (!result) return std::nullopt;
    if (meta) finish_modern_result(*result, method, request);
    return Reply(*envelope.id, std::move(*result));
  } catch (const RpcError& e) {
    return make_error(*envelope.id, e);
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", method, e.what());
    return make_error(*envelope.id, RpcError{rpc_code::k_internal_error, "internal error"});
  }
}

json Dispatcher::server_info() const {
  return server_info_of(m_options.info, modern_protocol_versions().front());
}

bool Dispatcher::may_block(const json& message) {
  if (message.is_array())
    return std::any_of(message.begin(), message.end(),
                       [](const json& element) { return may_block(element); });
  if (!message.is_object()) return false;
  const auto method = message.find("method");
  if (method == message.end() || !method->is_string()) return false;
  // As a string: comparing the json with a literal makes a json of the literal first.
  const auto& name = method->get_ref<const std::string&>();
  return name == "tools/call" || name == "resources/read" || name == "prompts/get";
}

bool Dispatcher::blocks(const json& message) const {
  if (message.is_array())
    return std::any_of(message.begin(), message.end(),
                       [this](const json& element) { return blocks(element); });
  if (!may_block(message)) return false;
  const auto& method = message["method"].get_ref<const std::string&>();
  const auto params = message.find("params");
  if (method == "resources/read" || params == message.end() || !params->is_object()) return true;
  const auto name = params->find("name");
  if (name == params->end() || !name->is_string()) return false;  // refused at once
  if (method == "prompts/get") {
    const PromptDef* prompt = m_catalog->find_prompt(name->get_ref<const std::string&>());
    return prompt && prompt->handler &&
           !std::holds_alternative<StaticHandlerSpec>(*prompt->handler);
  }
  const ToolDef* tool = m_catalog->find_tool(name->get_ref<const std::string&>());
  return tool && !std::holds_alternative<StaticHandlerSpec>(tool->handler);  // unknown: refused
}

}  // namespace mcpd::core
