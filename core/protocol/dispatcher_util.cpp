#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <mutex>

#include "core/protocol/dispatcher_internal.hpp"
#include "core/util/utf8.hpp"

namespace mcpd::core::detail {

// --- parameters ---

RpcError invalid_params(std::string message) {
  return RpcError{rpc_code::k_invalid_params, std::move(message)};
}

const std::string& require_string(const json& params, const char* key) {
  const auto it = params.find(key);
  if (it == params.end() || it->is_null())
    throw invalid_params(std::string("missing required parameter: ") + key);
  if (!it->is_string()) throw invalid_params(std::string("parameter must be a string: ") + key);
  return it->get_ref<const std::string&>();
}

json optional_object(const json& params, const char* key) {
  const auto it = params.find(key);
  if (it == params.end() || it->is_null()) return json::object();
  if (!it->is_object()) throw invalid_params(std::string("parameter must be an object: ") + key);
  return *it;
}

std::string clip(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) so no character is cut in half.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

// --- pagination ---

Page paginate(const Request& request, std::string_view list, std::size_t total) {
  std::size_t offset = 0;
  const auto it = request.params.find("cursor");
  if (it != request.params.end() && !it->is_null()) {
    if (!it->is_string()) throw invalid_params("invalid cursor");
    const auto decoded = base64_decode(it->get_ref<const std::string&>());
    const std::string prefix = std::string(list) + ":";
    if (!decoded || decoded->rfind(prefix, 0) != 0) throw invalid_params("invalid cursor");
    const char* first = decoded->data() + prefix.size();
    const char* last = decoded->data() + decoded->size();
    const auto [ptr, ec] = std::from_chars(first, last, offset);
    if (ec != std::errc() || ptr != last || first == last || offset > total)
      throw invalid_params("invalid cursor");
  }

  Page page;
  page.begin = offset;
  const std::size_t size = request.options.page_size == 0 ? total : request.options.page_size;
  page.end = total - offset > size ? offset + size : total;
  if (page.end < total)
    page.next_cursor = base64_encode(std::string(list) + ":" + std::to_string(page.end));
  return page;
}

void add_next_cursor(json& result, const Page& page) {
  if (page.next_cursor) result["nextCursor"] = *page.next_cursor;
}

// --- encodings and ids ---

namespace {
constexpr std::string_view k_base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += k_base64_alphabet[(n >> 18) & 63];
    out += k_base64_alphabet[(n >> 12) & 63];
    out += k_base64_alphabet[(n >> 6) & 63];
    out += k_base64_alphabet[n & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0);
    out += k_base64_alphabet[(n >> 18) & 63];
    out += k_base64_alphabet[(n >> 12) & 63];
    out += two ? k_base64_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned int buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // '=' only in the last two places
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;
    const auto pos = k_base64_alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned int>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

// --- the era a request is served in ---

std::string request_version(const Request& request) {
  return request.meta ? request.meta->protocol_version : request.session.protocol_version();
}

bool is_modern(const Request& request) {
  return request.meta != nullptr;
}

CallContext call_context(const Request& request, std::string name, const Identity& identity,
                         const CancelToken& cancel, CallChannel& channel, json answers) {
  CallContext ctx{
      std::move(name),
      identity,
      request.correlation_id,
      request_version(request),
      cancel,
      channel,
      {},
      {},
      request.meta ? request.meta->client_capabilities : request.session.client_capabilities(),
      std::move(answers)};
  if (request.meta) {
    ctx.traceparent = request.meta->traceparent;
    ctx.tracestate = request.meta->tracestate;
  }
  return ctx;
}

const char* cache_scope(const Request& request) {
  const auto identity = request.session.identity();
  return identity->user || identity->token_name ? "private" : "public";
}

// --- the channel back to the client ---

std::optional<json> progress_token(const json& params) {
  const auto meta = params.find("_meta");
  if (meta == params.end() || !meta->is_object()) return std::nullopt;
  const auto token = meta->find("progressToken");
  if (token == meta->end()) return std::nullopt;
  if (token->is_string() || token->is_number_integer()) return *token;
  return std::nullopt;
}

std::chrono::steady_clock::time_point request_deadline(const HandlerSpec& handler) {
  if (const auto* exec = std::get_if<ExecHandlerSpec>(&handler))
    return std::chrono::steady_clock::now() + exec->timeout;
  return std::chrono::steady_clock::time_point::max();
}

SessionChannel::SessionChannel(const Request& request, const CancelToken& cancel,
                               std::chrono::steady_clock::time_point deadline, json answers)
    : m_session(request.session),
      m_related_id(request.id),
      m_meta(request.meta),
      m_progress_token(progress_token(request.params)),
      m_cancel(cancel),
      m_deadline(deadline),
      m_answers(std::move(answers)) {}

void SessionChannel::progress(double progress, std::optional<double> total,
                              std::optional<std::string> message) {
  if (!m_progress_token || m_cancel.cancelled()) return;
  {
    // The spec requires progress to increase with every notification; drop the others.
    std::lock_guard lock(m_mutex);
    if (m_last_progress && progress <= *m_last_progress) return;
    m_last_progress = progress;
  }
  json params{{"progressToken", *m_progress_token}, {"progress", progress}};
  if (total) params["total"] = *total;
  // ProgressNotification.message arrived with 2025-03-26.
  if (message && valid_utf8(*message) &&
      (m_meta || version_at_least(m_session.protocol_version(), "2025-03-26")))
    params["message"] = *message;
  m_session.notify("notifications/progress", std::move(params), m_related_id);
}

void SessionChannel::log(const std::string& level, const std::optional<std::string>& logger,
                         const json& data) {
  // A 2026-07-28 request gets log messages only when it asked for them, at its own level.
  const bool enabled = m_meta ? m_meta->log_level && log_level_at_least(level, *m_meta->log_level)
                              : m_session.log_enabled(level);
  if (!enabled) return;  // also drops names that are not MCP levels
  json params{{"level", level}, {"data", data}};
  if (logger) params["logger"] = *logger;
  m_session.notify("notifications/message", std::move(params), m_related_id);
}

namespace {

// The client capability each server-to-client request needs.
std::optional<std::string> required_capability(const std::string& method) {
  if (method == "sampling/createMessage") return "sampling";
  if (method == "elicitation/create") return "elicitation";
  if (method == "roots/list") return "roots";
  return std::nullopt;
}

json error_reply(int code, std::string message) {
  return json{{"error", {{"code", code}, {"message", std::move(message)}}}};
}

}  // namespace

json SessionChannel::request(const std::string& method, const json& params) {
  // 2026-07-28 has no server-initiated requests: its clients are asked through
  // InputRequiredResult (multi round-trip requests) instead.
  if (m_meta)
    return error_reply(rpc_code::k_method_not_found,
                       "requests to the client are not available to 2026-07-28 clients");
  if (method != "ping") {
    const auto capability = required_capability(method);
    if (!capability)
      return error_reply(rpc_code::k_method_not_found,
                         "method not supported for server-to-client requests: " + clip(method));
    const json capabilities = m_session.client_capabilities();
    if (!capabilities.contains(*capability))
      return error_reply(rpc_code::k_method_not_found,
                         "client does not support " + *capability + " (" + method + ")");
  }
  return m_session.send_request(method, params.is_null() ? json::object() : params, m_cancel,
                                m_deadline, m_related_id);
}

std::optional<json> SessionChannel::ask(const std::string& key, const std::string& method,
                                        const json& params) {
  if (!m_meta) return request(method, params);
  std::lock_guard lock(m_mutex);
  // The n-th question under one key in a run is its own question: "key", "key#2", ...
  const int count = ++m_asked[key];
  const std::string name = count == 1 ? key : key + "#" + std::to_string(count);
  if (const auto answer = m_answers.find(name); answer != m_answers.end()) {
    m_used[name] = *answer;
    return json{{"result", *answer}};
  }
  const auto capability = required_capability(method);
  if (!capability)
    return error_reply(rpc_code::k_method_not_found,
                       "method not supported for requests to the client: " + clip(method));
  if (!m_meta->declares(*capability)) {
    m_missing[*capability] = json::object();
    return std::nullopt;
  }
  m_questions[name] = {{"method", method},
                       {"params", params.is_object() ? params : json::object()}};
  return std::nullopt;
}

std::optional<json> SessionChannel::finish(const Request& request,
                                           const StateSubject& subject) const {
  std::lock_guard lock(m_mutex);
  if (!m_missing.empty()) {
    std::string names;
    for (const auto& [capability, unused] : m_missing.items())
      names += (names.empty() ? "" : ", ") + capability;
    throw RpcError{rpc_code::k_missing_client_capability,
                   "Missing required client capability: " + names,
                   json{{"requiredCapabilities", m_missing}}};
  }
  if (m_questions.empty()) return std::nullopt;
  return json{{"resultType", "input_required"},
              {"inputRequests", m_questions},
              {"requestState", request.sealer->seal(state_binding(request, subject), m_used)}};
}

// --- multi round-trip requests ---

StateBinding state_binding(const Request& request, const StateSubject& subject) {
  const auto identity = request.session.identity();
  // JSON, so that no user name and token name can be spliced into another pair.
  std::string principal;
  if (identity->user || identity->token_name)
    principal =
        json::array({identity->user.value_or(""), identity->token_name.value_or("")}).dump();
  return StateBinding{std::move(principal), subject.method, subject.name,
                      arguments_digest(subject.arguments)};
}

json retry_answers(const Request& request, const StateSubject& subject) {
  json answers;
  if (!request.meta) return answers;
  if (const auto state = request.params.find("requestState"); state != request.params.end()) {
    if (!state->is_string()) throw invalid_params("requestState must be a string");
    auto opened =
        request.sealer->open(state_binding(request, subject), state->get_ref<const std::string&>());
    if (auto* error = std::get_if<RpcError>(&opened)) throw std::move(*error);
    answers = std::move(std::get<json>(opened));  // always an object
  }
  if (const auto responses = request.params.find("inputResponses");
      responses != request.params.end()) {
    if (!responses->is_object()) throw invalid_params("inputResponses must be an object");
    if (answers.is_null()) answers = json::object();
    for (const auto& [key, answer] : responses->items()) {
      if (!answer.is_object())
        throw invalid_params("inputResponses." + clip(key) + " must be an object (a result)");
      if (!answers.contains(key)) answers[key] = answer;
    }
  }
  return answers;
}

InFlight::InFlight(Session& session, const json& id)
    : m_session(session), m_id(id), m_token(session.begin_request(id)) {
  if (!m_token)
    throw RpcError{rpc_code::k_invalid_request, "a request with this id is already in progress"};
}

InFlight::~InFlight() {
  m_session.end_request(m_id);
}

}  // namespace mcpd::core::detail
