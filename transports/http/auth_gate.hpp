#pragma once
// Who is calling, and may they: the bearer credential (Authorization header only; a credential
// in the query string is refused and never used), the Authenticator (off the I/O threads: a
// cache miss reaches storage), the per-address limiter of failed attempts, and the per-client
// rate limit (the token, else the address). Storage trouble fails closed with 503.

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "core/authenticator.hpp"
#include "core/metrics.hpp"
#include "core/rate_limit.hpp"
#include "transports/http/connection.hpp"

namespace mcpd::transports::http {

struct Caller {
  core::Identity identity;  // all tools when authentication is off
  std::string owner;        // what sessions are bound to; empty when authentication is off
  std::string rate_key;     // "token:..." or "ip:..."
};

class AuthGate {
 public:
  AuthGate(bool require_auth, std::shared_ptr<core::Authenticator> authenticator,
           core::RateLimiter& limiter, core::RateLimiter& failure_limiter, core::Metrics* metrics,
           boost::asio::thread_pool& pool);

  // Either answers `exchange` (401, 400, 429, 503) or calls `next` with the caller, on the
  // exchange's strand.
  void check(const std::shared_ptr<Exchange>& exchange,
             const std::shared_ptr<IncomingRequest>& request, std::function<void(Caller)> next);

  bool required() const { return m_require; }

  // "user\ntoken-name": the identity a session is bound to.
  static std::string owner_of(const core::Identity& identity);

 private:
  void failed(const std::shared_ptr<Exchange>& exchange, const std::string& peer,
              std::string_view reason, Response response);
  void admit(const std::shared_ptr<Exchange>& exchange, Caller caller,
             const std::function<void(Caller)>& next);

  const bool m_require;
  std::shared_ptr<core::Authenticator> m_authenticator;
  core::RateLimiter& m_limiter;
  core::RateLimiter& m_failure_limiter;
  core::Metrics* m_metrics;
  boost::asio::thread_pool& m_pool;
};

// 429 with Retry-After.
Response too_many_requests(std::uint32_t retry_after_seconds, std::string message);

}  // namespace mcpd::transports::http
