#include "transports/http/auth_gate.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>

#include "core/protocol/rpc.hpp"

namespace mcpd::transports::http {

namespace net = boost::asio;

std::string_view url_path(std::string_view url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto slash = url.find_first_of("/?", start);
  if (slash == std::string_view::npos || url[slash] == '?') return "/";
  return url.substr(slash, url.find('?', slash) - slash);
}

std::string resource_metadata_url(std::string_view resource) {
  const auto scheme = resource.find("://");
  const auto start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto slash = resource.find_first_of("/?", start);
  std::string url(resource.substr(0, slash));
  url += k_resource_metadata_path;
  const std::string_view path = url_path(resource);
  if (path != "/") url += path;
  return url;
}

nlohmann::json resource_metadata_document(const core::auth::ProtectedResource& metadata,
                                          const std::string& resource) {
  nlohmann::json document = {{"resource", resource}};
  if (!metadata.authorization_servers.empty())
    document["authorization_servers"] = metadata.authorization_servers;
  document["bearer_methods_supported"] = {"header"};
  if (!metadata.resource_name.empty()) document["resource_name"] = metadata.resource_name;
  return document;
}

Response too_many_requests(std::uint32_t retry_after_seconds, std::string message) {
  Response response = error_body(429, "rate_limited", std::move(message));
  response.set("Retry-After", std::to_string(std::max<std::uint32_t>(1, retry_after_seconds)));
  return response;
}

AuthGate::AuthGate(bool require_auth, std::shared_ptr<core::auth::Authenticator> authenticator,
                   core::RateLimiter& limiter, core::RateLimiter& failure_limiter,
                   core::Metrics* metrics, BoundedPool& pool)
    : m_require(require_auth),
      m_authenticator(std::move(authenticator)),
      m_limiter(limiter),
      m_failure_limiter(failure_limiter),
      m_metrics(metrics),
      m_pool(pool) {
  if (m_require && m_authenticator) m_resource = m_authenticator->protected_resource();
}

std::string AuthGate::resource_for(const IncomingRequest& request) const {
  if (!m_resource) return {};
  if (!m_resource->resource.empty()) return m_resource->resource;
  const auto proto = request.header("X-Forwarded-Proto");
  const bool https = proto && (*proto == "https" || *proto == "HTTPS");
  const auto host = request.header("Host");
  std::string authority = host ? std::string(*host) : std::string();
  if (authority.empty() || !parse_host(authority)) {
    // No usable Host (HTTP/1.0): the listener's own address.
    authority = request.listener ? request.listener->address : std::string("localhost");
  }
  return std::string(https ? "https://" : "http://") + authority + "/mcp";
}

Response AuthGate::challenge(const IncomingRequest& request, bool credential_given,
                             std::string_view description) const {
  Response response = unauthorized(credential_given, description);
  if (!m_resource) return response;
  std::erase_if(response.headers, [](const Header& header) {
    return boost::beast::iequals(header.first, "WWW-Authenticate");
  });
  std::string value = "Bearer realm=\"mcpd\", resource_metadata=\"" +
                      resource_metadata_url(resource_for(request)) + "\"";
  if (credential_given) value += ", error=\"invalid_token\"";
  response.set("WWW-Authenticate", std::move(value));
  return response;
}

namespace {

// "user\ntoken-name": what a session is bound to, and after "token:" the rate limit's key.
void append_owner(std::string& out, const core::Identity& identity) {
  if (identity.user) out.append(*identity.user);
  out.push_back('\n');
  if (identity.token_name) out.append(*identity.token_name);
}

}  // namespace

std::string Caller::owner() const {
  return authenticated ? AuthGate::owner_of(*identity) : std::string();
}

void Caller::rate_key(std::string& out) const {
  out.clear();
  if (!authenticated) {
    out.append("ip:").append(peer);
    return;
  }
  out.append("token:");
  append_owner(out, *identity);
}

std::string AuthGate::owner_of(const core::Identity& identity) {
  std::string owner;
  append_owner(owner, identity);
  return owner;
}

void AuthGate::check(const std::shared_ptr<Exchange>& exchange,
                     const std::shared_ptr<IncomingRequest>& request, Next next) {
  const std::string& peer = request->client;
  if (!m_require) {
    // One per thread: its reference count is written by this thread (and the worker it hands
    // a call to), not by every I/O thread at once.
    thread_local const auto anyone = std::make_shared<const core::Identity>();
    next(exchange, request, Caller{anyone, false, peer});
    return;
  }

  const auto target = split_target(
      std::string_view(request->message.target().data(), request->message.target().size()));
  if (query_has_credential(target.query)) {
    refuse(exchange, *request, core::auth::Refusal::query_token,
           "credentials in the URL are not accepted; send Authorization: Bearer <token>");
    return;
  }

  const Bearer bearer = parse_bearer(request->header("Authorization"));
  if (bearer.status == Bearer::Status::missing) {
    refuse(exchange, *request, core::auth::Refusal::missing, "a bearer token is required");
    return;
  }
  if (bearer.status == Bearer::Status::malformed) {
    refuse(exchange, *request, core::auth::Refusal::malformed,
           "expected Authorization: Bearer <token>");
    return;
  }

  // Read once: the same credential (its kind and hash) serves the cache and the lookup. A fresh
  // cached answer (the usual case for a busy client) is decided here, on the I/O thread; only a
  // miss may reach storage, off the I/O thread and then back on the connection's.
  auto credential = m_authenticator->read(bearer.token);
  auto cached = m_authenticator->try_cached(credential);
  // A credential the cache already knows to be valid costs nothing to check and guesses
  // nothing: it passes even when its address is being limited (behind a proxy, one address
  // is many clients, and one of them guessing must not lock the others out).
  if (cached && cached->ok()) {
    conclude(exchange, request, std::move(cached), next);
    return;
  }
  // An address that keeps failing is stopped before its guesses cost a lookup; a credential
  // found valid lately is no guess, and is looked up anyway (one address may be many clients
  // behind a proxy, and a cache entry lives only seconds).
  if (const auto gate = m_failure_limiter.peek("ip:" + peer);
      !gate.allowed && !m_authenticator->recently_valid(credential)) {
    exchange->respond(
        too_many_requests(gate.retry_after_seconds, "too many failed authentication attempts"));
    return;
  }
  if (cached) {
    conclude(exchange, request, std::move(cached), next);
    return;
  }
  const bool queued = m_pool.try_post([this, exchange, request, credential = std::move(credential),
                                       next = std::move(next)]() mutable {
    auto result =
        std::make_shared<const core::auth::AuthResult>(m_authenticator->authenticate(credential));
    net::post(exchange->executor(), [this, exchange, request, result = std::move(result),
                                     next = std::move(next)]() mutable {
      conclude(exchange, request, std::move(result), next);
    });
  });
  if (!queued) exchange->respond(overloaded());
}

void AuthGate::conclude(const std::shared_ptr<Exchange>& exchange,
                        const std::shared_ptr<IncomingRequest>& request, Result result,
                        const Next& next) {
  if (!result->ok()) {
    refuse(exchange, *request, result->refusal(), "invalid or expired token");
    return;
  }
  // Aliasing: the identity shares the cached answer's ownership, no copy.
  const core::Identity* identity = &result->identity();
  next(exchange, request,
       Caller{std::shared_ptr<const core::Identity>(std::move(result), identity), true,
              request->client});
}

void AuthGate::refuse(const std::shared_ptr<Exchange>& exchange, const IncomingRequest& request,
                      core::auth::Refusal refusal, std::string_view description) {
  using core::auth::Refusal;
  const std::string_view reason = core::auth::reason_label(refusal);
  if (m_metrics) m_metrics->auth_failure(reason);
  const unsigned status = core::auth::http_status(refusal);
  if (status == 503) {
    Response response =
        error_body(503, "unavailable", "authentication storage is unavailable; retry later");
    response.set("Retry-After", "5");
    exchange->respond(std::move(response));
    return;
  }
  if (const auto held_back = m_failure_lines.admit()) {
    if (*held_back == 0)
      spdlog::info("authentication failed from {}: {}", request.client, reason);
    else
      spdlog::info("authentication failed from {}: {} ({} more failure(s) not logged)",
                   request.client, reason, *held_back);
  }
  // Missing credentials are how clients discover that auth is needed; only real failures count
  // against the address.
  if (refusal != Refusal::missing) (void)m_failure_limiter.check("ip:" + request.client);
  if (status == 400) {
    Response response = error_body(400, "invalid_request", std::string(description));
    response.set("WWW-Authenticate", "Bearer realm=\"mcpd\", error=\"invalid_request\"");
    exchange->respond(std::move(response));
    return;
  }
  exchange->respond(challenge(request, refusal != Refusal::missing, description));
}

bool AuthGate::charge(const std::shared_ptr<Exchange>& exchange, const Caller& caller,
                      std::uint32_t work) {
  if (work == 0) return true;
  const std::uint32_t burst = m_limiter.options().burst;
  if (work > burst) {
    exchange->respond(jsonrpc_error(400, core::rpc_code::k_invalid_request,
                                    "Invalid Request: the batch asks for " + std::to_string(work) +
                                        " calls, more than the rate limit allows at once (" +
                                        std::to_string(burst) + "); send smaller batches"));
    return false;
  }
  thread_local std::string key;  // reused: no allocation per request
  caller.rate_key(key);
  if (const auto decision = m_limiter.check(key, work); !decision.allowed) {
    spdlog::debug("rate limited: {} call(s) from {} refused, retry after {} s", work,
                  caller.identity->user.value_or(key), decision.retry_after_seconds);
    exchange->respond(too_many_requests(decision.retry_after_seconds,
                                        "Too many requests. Please try again later."));
    return false;
  }
  return true;
}

}  // namespace mcpd::transports::http
