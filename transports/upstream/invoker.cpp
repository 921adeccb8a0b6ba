#include "transports/upstream/invoker.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <random>

#include "core/config/error.hpp"
#include "core/descriptors/placeholders.hpp"
#include "core/handlers/exec_output.hpp"

namespace mcpd::transports::upstream {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t k_detail_chars = 500;

// Set by mcpd itself: a descriptor cannot replace them (check-tools reports them too).
bool is_reserved_header(std::string_view name) {
  for (std::string_view reserved : {"Authorization", "Host", "Content-Length", "Transfer-Encoding",
                                    "Connection", "X-MCP-User", "X-Correlation-ID"})
    if (name.size() == reserved.size() &&
        ::strncasecmp(name.data(), reserved.data(), name.size()) == 0)
      return true;
  return false;
}

void set_header(std::vector<std::pair<std::string, std::string>>& headers, std::string name,
                std::string value) {
  std::erase_if(headers, [&](const auto& header) {
    return ::strcasecmp(header.first.c_str(), name.c_str()) == 0;
  });
  headers.emplace_back(std::move(name), std::move(value));
}

bool is_json_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "application/json" ||
         (lower.size() > 5 && lower.compare(lower.size() - 5, 5, "+json") == 0);
}

// At most `limit` bytes of valid UTF-8, "..." marking a cut.
std::string clip(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return core::sanitize_utf8(text);
  text = text.substr(0, limit);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80)
    text.remove_suffix(1);
  if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) text.remove_suffix(1);
  return core::sanitize_utf8(text) + "...";
}

// What an error response says, Django REST framework style: {"detail": ...}, a message, or
// the validation errors themselves ({"field": ["This field is required."]}).
std::string error_detail(const Response& response) {
  if (is_json_type(response.content_type)) {
    const json body = json::parse(response.body, nullptr, false);
    if (body.is_object()) {
      for (const char* key : {"detail", "message", "error"})
        if (auto it = body.find(key); it != body.end() && it->is_string())
          return clip(it->get_ref<const std::string&>(), k_detail_chars);
    }
    if (!body.is_discarded())
      return clip(body.dump(-1, ' ', false, json::error_handler_t::replace), k_detail_chars);
  }
  // HTML error pages (a debug traceback, a proxy's page) say nothing a tool caller can use.
  if (response.content_type.find("html") != std::string::npos) return {};
  std::string text;
  for (char c : response.body) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (text.empty() || text.back() == ' ')) continue;
    text += space ? ' ' : c;
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return clip(text, 200);
}

json success_result(const Response& response) {
  if (response.body.empty())
    return json{
        {"content",
         json::array({{{"type", "text"},
                       {"text", std::to_string(response.status) + " " + response.reason}}})}};
  if (is_json_type(response.content_type)) {
    json result = core::json_output_result(response.body);
    if (!result.value("isError", false)) return result;
  }
  return core::text_output_result(response.body);
}

std::string describe_status(const Response& response) {
  std::string text = std::to_string(response.status);
  if (!response.reason.empty()) text += " " + core::sanitize_utf8(response.reason);
  return text;
}

// Waits `delay` unless the call is cancelled first (then returns false).
bool pause(std::chrono::milliseconds delay, const core::CancelToken& cancel) {
  const auto until = Clock::now() + delay;
  for (;;) {
    if (cancel.cancelled()) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return true;
    pollfd fd{cancel.fd(), POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(left.count()) + 1);
  }
}

double random_unit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

struct UpstreamInvoker::Upstream {
  std::string name;
  core::UpstreamSettings settings;
  std::unique_ptr<UpstreamClient> client;

  std::mutex health_mutex;  // one health request at a time; others wait for its result
  bool health_known = false;
  bool health_up = false;
  Clock::time_point health_checked_at;
};

UpstreamInvoker::UpstreamInvoker(const std::map<std::string, core::UpstreamSettings>& upstreams,
                                 const AddressRules& rules, InvokerOptions options)
    : m_options(options) {
  for (const auto& [name, settings] : upstreams) {
    ClientOptions client;
    client.name = name;
    std::string error;
    auto base = parse_base_url(settings.base_url, error);
    if (!base) throw Error("upstreams." + name + ".base_url: " + error);
    client.base = *base;
    client.ca_file = settings.ca_file;
    client.pool_size = static_cast<std::size_t>(std::max(settings.pool_size, 1));
    client.max_response_bytes = k_max_response_bytes;
    client.address_rules = rules;
    boost::system::error_code not_ip;
    if (const auto literal = boost::asio::ip::make_address(base->host, not_ip); !not_ip) {
      if (auto why = rules.refusal(literal))
        spdlog::warn("upstream '{}': every call will be refused: {}", name, *why);
    }
    if (!settings.ca_file.empty() && !base->tls)
      spdlog::warn("upstream '{}': ca_file is ignored for an http:// base URL", name);
    if (settings.api_key.empty() && !settings.api_key_file.empty())
      spdlog::warn("upstream '{}': no API key ({} is empty); calls go without Authorization", name,
                   settings.api_key_file.string());
    auto upstream = std::make_unique<Upstream>();
    upstream->name = name;
    upstream->settings = settings;
    upstream->client = std::make_unique<UpstreamClient>(std::move(client));
    m_upstreams.emplace(name, std::move(upstream));
  }
}

UpstreamInvoker::~UpstreamInvoker() = default;

UpstreamInvoker::Upstream* UpstreamInvoker::find(const std::string& name) const {
  auto it = m_upstreams.find(name);
  return it == m_upstreams.end() ? nullptr : it->second.get();
}

json UpstreamInvoker::call(const core::HttpHandlerSpec& spec, const json& values,
                           core::CallContext& ctx) {
  Upstream* upstream = find(spec.upstream);
  if (!upstream) return core::tool_error("upstream '" + spec.upstream + "' is not configured");
  const std::string& name = upstream->name;
  auto refuse = [&](const std::string& why) {
    return core::tool_error("cannot call upstream '" + name + "': " + why);
  };

  // The request: encoded path and query, headers, the JSON body.
  Request request;
  request.method = spec.method;
  const PathResult path = fill_path(spec.path, values);
  if (!path.error.empty()) return refuse(path.error);
  request.target = upstream->client->options().base.prefix + path.path;
  if (const std::string query = fill_query(spec.query, values); !query.empty())
    request.target += (path.path.find('?') == std::string::npos ? "?" : "&") + query;

  auto& headers = request.headers;
  headers.emplace_back("User-Agent", "mcpd/" MCPD_VERSION);
  headers.emplace_back("Accept", "application/json");
  if (!ctx.correlation_id.empty() && valid_header_value(ctx.correlation_id))
    headers.emplace_back("X-Correlation-ID", ctx.correlation_id);
  if (ctx.identity.user && valid_header_value(*ctx.identity.user))
    headers.emplace_back("X-MCP-User", *ctx.identity.user);
  // W3C Trace Context of a 2026-07-28 request (checked well-formed when it was read).
  if (!ctx.traceparent.empty()) headers.emplace_back("traceparent", ctx.traceparent);
  if (!ctx.tracestate.empty() && valid_header_value(ctx.tracestate))
    headers.emplace_back("tracestate", ctx.tracestate);
  const auto& settings = upstream->settings;
  if (!settings.api_key.empty())
    headers.emplace_back("Authorization", settings.auth_scheme + " " + settings.api_key);
  if (spec.body) {
    request.body =
        fill_body(*spec.body, values).dump(-1, ' ', false, json::error_handler_t::replace);
    headers.emplace_back("Content-Type", "application/json");
  }
  for (auto it = spec.headers.begin(); it != spec.headers.end(); ++it) {
    if (is_reserved_header(it.key()) || !it->is_string()) continue;
    std::string value = core::substitute(it->get_ref<const std::string&>(), values);
    if (!valid_header_value(value))
      return refuse("header " + it.key() + " would contain a line break or control character");
    set_header(headers, it.key(), std::move(value));
  }

  RetryPolicy policy;
  policy.max_retries = std::max(settings.max_retries, 0);
  policy.retry_non_idempotent = spec.retry;
  policy.base_delay = m_options.base_delay;
  policy.max_delay = m_options.max_delay;
  request.replayable = spec.retry || is_idempotent(spec.method);
  const auto timeout = spec.timeout.value_or(settings.timeout);

  // Attempts, with backoff between them.
  Attempt attempt;
  for (int number = 0;; ++number) {
    attempt = upstream->client->send(request, timeout, &ctx.cancel);
    const unsigned status = attempt.response.status;
    if (!policy.should_retry(spec.method, number, attempt.outcome, status)) break;
    const auto delay = policy.backoff(number, random_unit());
    spdlog::warn(
        "upstream {} {} {} failed ({}); retry {}/{} in {} ms [correlation_id={}]", name,
        spec.method, path.path,
        attempt.outcome == Outcome::response ? describe_status(attempt.response) : attempt.error,
        number + 1, policy.max_retries, delay.count(), ctx.correlation_id);
    if (!pause(delay, ctx.cancel)) {
      attempt.outcome = Outcome::cancelled;
      break;
    }
  }

  // The answer.
  switch (attempt.outcome) {
    case Outcome::response: {
      const Response& response = attempt.response;
      spdlog::debug("upstream {} {} {} -> {} [correlation_id={}]", name, spec.method, path.path,
                    response.status, ctx.correlation_id);
      if (response.status >= 200 && response.status <= 299) return success_result(response);
      std::string message = "upstream '" + name + "' answered " + describe_status(response);
      if (response.status >= 300 && response.status <= 399)
        message += " (redirects are not followed)";
      else if (const std::string detail = error_detail(response); !detail.empty())
        message += ": " + detail;
      return core::tool_error(message);
    }
    case Outcome::timed_out:
      spdlog::warn("upstream {} {} {}: {} ({} ms) [correlation_id={}]", name, spec.method,
                   path.path, attempt.error, timeout.count(), ctx.correlation_id);
      return core::tool_error("upstream '" + name + "' did not answer within " +
                              std::to_string(timeout.count()) + " ms");
    case Outcome::cancelled:
      return core::tool_error("cancelled");
    case Outcome::refused:
      spdlog::warn("upstream {} {} {} refused: {} [correlation_id={}]", name, spec.method,
                   path.path, attempt.error, ctx.correlation_id);
      return core::tool_error("upstream '" + name + "' refused: " + attempt.error +
                              " (upstream.allow lifts it)");
    default:
      spdlog::warn("upstream {} {} {}: {} [correlation_id={}]", name, spec.method, path.path,
                   attempt.error, ctx.correlation_id);
      return core::tool_error("upstream '" + name + "' is unavailable: " + attempt.error);
  }
}

std::vector<std::string> UpstreamInvoker::health_checked() const {
  std::vector<std::string> names;
  for (const auto& [name, upstream] : m_upstreams)
    if (!upstream->settings.health_path.empty()) names.push_back(name);
  return names;
}

bool UpstreamInvoker::healthy(const std::string& name) {
  Upstream* upstream = find(name);
  if (!upstream || upstream->settings.health_path.empty()) return false;
  std::lock_guard lock(upstream->health_mutex);
  const auto now = Clock::now();
  if (upstream->health_known && now - upstream->health_checked_at < m_options.health_ttl)
    return upstream->health_up;

  Request request;
  request.method = "GET";
  request.target = upstream->client->options().base.prefix + upstream->settings.health_path;
  request.headers = {{"User-Agent", "mcpd/" MCPD_VERSION}, {"Accept", "application/json"}};
  if (!upstream->settings.api_key.empty())
    request.headers.emplace_back("Authorization",
                                 upstream->settings.auth_scheme + " " + upstream->settings.api_key);
  request.replayable = true;
  const core::CancelToken never_cancelled;
  const Attempt attempt = upstream->client->send(
      request, std::min(m_options.health_timeout, upstream->settings.timeout), &never_cancelled);
  const bool up = attempt.outcome == Outcome::response && attempt.response.status >= 200 &&
                  attempt.response.status <= 299;
  if (up != upstream->health_up || !upstream->health_known) {
    if (up)
      spdlog::info("upstream {} is healthy", name);
    else
      spdlog::warn(
          "upstream {} is unhealthy: {}", name,
          attempt.outcome == Outcome::response ? describe_status(attempt.response) : attempt.error);
  }
  upstream->health_known = true;
  upstream->health_up = up;
  upstream->health_checked_at = Clock::now();
  return up;
}

}  // namespace mcpd::transports::upstream
