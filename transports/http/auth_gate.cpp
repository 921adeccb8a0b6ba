#include "transports/http/auth_gate.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace mcpd::transports::http {

namespace net = boost::asio;

Response too_many_requests(std::uint32_t retry_after_seconds, std::string message) {
  Response response = error_body(429, "rate_limited", std::move(message));
  response.set("Retry-After", std::to_string(std::max<std::uint32_t>(1, retry_after_seconds)));
  return response;
}

AuthGate::AuthGate(bool require_auth, std::shared_ptr<core::Authenticator> authenticator,
                   core::RateLimiter& limiter, core::RateLimiter& failure_limiter,
                   core::Metrics* metrics, net::thread_pool& pool)
    : m_require(require_auth),
      m_authenticator(std::move(authenticator)),
      m_limiter(limiter),
      m_failure_limiter(failure_limiter),
      m_metrics(metrics),
      m_pool(pool) {}

std::string AuthGate::owner_of(const core::Identity& identity) {
  return identity.user.value_or("") + "\n" + identity.token_name.value_or("");
}

void AuthGate::check(const std::shared_ptr<Exchange>& exchange,
                     const std::shared_ptr<IncomingRequest>& request,
                     std::function<void(Caller)> next) {
  const std::string& peer = request->client;
  if (!m_require) {
    admit(exchange, Caller{core::Identity{}, std::string(), "ip:" + peer}, next);
    return;
  }

  const auto target = split_target(
      std::string_view(request->message.target().data(), request->message.target().size()));
  if (query_has_credential(target.query)) {
    Response response = error_body(400, "invalid_request",
                                   "credentials in the URL are not accepted; send "
                                   "Authorization: Bearer <token>");
    response.set("WWW-Authenticate", "Bearer realm=\"mcpd\", error=\"invalid_request\"");
    failed(exchange, peer, "query_token", std::move(response));
    return;
  }

  // An address that keeps failing is stopped before its guesses cost a lookup.
  if (const auto gate = m_failure_limiter.peek("ip:" + peer); !gate.allowed) {
    exchange->respond(
        too_many_requests(gate.retry_after_seconds, "too many failed authentication attempts"));
    return;
  }

  const Bearer bearer = parse_bearer(request->header("Authorization"));
  if (bearer.status == Bearer::Status::missing) {
    failed(exchange, peer, "missing", unauthorized(false, "a bearer token is required"));
    return;
  }
  if (bearer.status == Bearer::Status::malformed) {
    failed(exchange, peer, "malformed",
           unauthorized(true, "expected Authorization: Bearer <token>"));
    return;
  }

  // The lookup may reach storage: off the I/O thread, then back on the connection's strand.
  net::post(m_pool, [this, exchange, request, token = std::string(bearer.token),
                     next = std::move(next)]() mutable {
    core::AuthOutcome outcome = m_authenticator->authenticate(token);
    net::post(exchange->executor(), [this, exchange, request, outcome = std::move(outcome),
                                     next = std::move(next)]() mutable {
      if (outcome.identity) {
        Caller caller;
        caller.owner = owner_of(*outcome.identity);
        caller.rate_key = "token:" + caller.owner;
        caller.identity = std::move(*outcome.identity);
        admit(exchange, std::move(caller), next);
      } else if (outcome.storage_unavailable) {
        if (m_metrics)
          m_metrics->auth_failure(outcome.reason.empty() ? "unavailable" : outcome.reason);
        Response response =
            error_body(503, "unavailable", "authentication storage is unavailable; retry later");
        response.set("Retry-After", "5");
        exchange->respond(std::move(response));
      } else {
        const std::string reason = outcome.reason.empty() ? "invalid" : outcome.reason;
        failed(exchange, request->client, reason, unauthorized(true, "invalid or expired token"));
      }
    });
  });
}

void AuthGate::failed(const std::shared_ptr<Exchange>& exchange, const std::string& peer,
                      std::string_view reason, Response response) {
  if (m_metrics) m_metrics->auth_failure(reason);
  spdlog::info("authentication failed from {}: {}", peer, reason);
  // Missing credentials are how clients discover that auth is needed; only real failures count
  // against the address.
  if (reason != "missing") (void)m_failure_limiter.check("ip:" + peer);
  exchange->respond(std::move(response));
}

void AuthGate::admit(const std::shared_ptr<Exchange>& exchange, Caller caller,
                     const std::function<void(Caller)>& next) {
  if (const auto decision = m_limiter.check(caller.rate_key); !decision.allowed) {
    exchange->respond(too_many_requests(decision.retry_after_seconds,
                                        "Too many requests. Please try again later."));
    return;
  }
  next(std::move(caller));
}

}  // namespace mcpd::transports::http
