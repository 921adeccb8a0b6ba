#pragma once
// Who is calling, and may they: the bearer credential (Authorization header only; a credential
// in the query string is refused and never used), read once and handed to the Authenticator
// (its cached answers inline, a cache miss off the I/O threads since it reaches storage), the
// per-address limiter of failed attempts, and the per-client rate limit (the token, else the
// address), charged once the body is read since only work counts (core::request_cost). A
// refusal is answered with the status core::auth::http_status() names for it:
// storage trouble fails closed with 503.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth/authenticator.hpp"
#include "core/auth/rate_limit.hpp"
#include "core/observability/log.hpp"
#include "core/observability/metrics.hpp"
#include "transports/http/bounded_pool.hpp"
#include "transports/http/connection.hpp"

namespace mcpd::transports::http {

// Who a request comes from. The identity is shared, not copied: with authentication it is the
// auth cache's copy for this thread, without it one empty identity per thread, so a request
// costs no allocation and writes no reference count that other threads write too.
struct Caller {
  std::shared_ptr<const core::Identity> identity;  // never null; all tools without auth
  bool authenticated = false;
  std::string peer;  // the client's address

  // "user\ntoken-name", what sessions are bound to; empty when authentication is off.
  std::string owner() const;
  // The rate limit's key: "token:<owner>" when authenticated, else "ip:<peer>". Written into
  // `out` (cleared first), so a reused buffer makes it allocation-free.
  void rate_key(std::string& out) const;
};

class AuthGate {
 public:
  AuthGate(bool require_auth, std::shared_ptr<core::auth::Authenticator> authenticator,
           core::RateLimiter& limiter, core::RateLimiter& failure_limiter, core::Metrics* metrics,
           BoundedPool& pool);

  // What check() calls with an accepted request. It is handed the exchange and the request, so
  // that it need capture next to nothing (a std::function that fits in place allocates nothing).
  using Next = std::function<void(const std::shared_ptr<Exchange>&,
                                  const std::shared_ptr<IncomingRequest>&, Caller)>;
  using Result = std::shared_ptr<const core::auth::AuthResult>;

  // Either answers `exchange` (401, 400, 429, 503) or calls `next` with the caller, on the
  // exchange's executor.
  void check(const std::shared_ptr<Exchange>& exchange,
             const std::shared_ptr<IncomingRequest>& request, Next next);

  // Charges a body's work (BodyKind::work) to the caller's rate limit. False when refused, with
  // `exchange` answered: 429 with Retry-After, or 400 for a batch that alone exceeds the burst
  // (waiting would never help). A body without work always passes.
  bool charge(const std::shared_ptr<Exchange>& exchange, const Caller& caller, std::uint32_t work);

  bool required() const { return m_require; }

  // RFC 9728 metadata when authentication is on and the authenticator offers it (JWT).
  const std::optional<core::auth::ProtectedResource>& protected_resource() const {
    return m_resource;
  }
  // This server's resource identifier as `request` reached it: the configured one, else
  // <scheme>://<Host>/mcp (https when X-Forwarded-Proto says so). Empty without metadata.
  std::string resource_for(const IncomingRequest& request) const;

  // "user\ntoken-name": the identity a session is bound to.
  static std::string owner_of(const core::Identity& identity);

 private:
  // Answers a refusal: counted, logged (storage trouble is not the caller's failure) and, unless
  // the credential was merely missing, counted against the address.
  void refuse(const std::shared_ptr<Exchange>& exchange, const IncomingRequest& request,
              core::auth::Refusal refusal, std::string_view description);
  // 401 whose challenge also names the resource metadata (RFC 9728 §5.1) when there is some.
  Response challenge(const IncomingRequest& request, bool credential_given,
                     std::string_view description) const;
  // Acts on the authenticator's answer, on the exchange's executor.
  void conclude(const std::shared_ptr<Exchange>& exchange,
                const std::shared_ptr<IncomingRequest>& request, Result result, const Next& next);

  const bool m_require;
  std::shared_ptr<core::auth::Authenticator> m_authenticator;
  core::RateLimiter& m_limiter;
  core::RateLimiter& m_failure_limiter;
  // One line per failed authentication, at most 10 a second: a flood from many addresses must
  // not flood the log too (mcp_auth_failures_total counts every one).
  core::log::Sampler m_failure_lines{10};
  core::Metrics* m_metrics;
  BoundedPool& m_pool;
  std::optional<core::auth::ProtectedResource> m_resource;
};

// 429 with Retry-After.
Response too_many_requests(std::uint32_t retry_after_seconds, std::string message);

// --- RFC 9728 protected resource metadata ---

inline constexpr std::string_view k_resource_metadata_path =
    "/.well-known/oauth-protected-resource";

// Where a resource's metadata lives (RFC 9728 §3.1): the well-known path inserted between the
// authority and the path, e.g. https://h/mcp -> https://h/.well-known/oauth-protected-resource/mcp.
std::string resource_metadata_url(std::string_view resource);
// The path part of an absolute URL ("/" when it has none).
std::string_view url_path(std::string_view url);
// {"resource", "authorization_servers", "bearer_methods_supported", "resource_name"}.
nlohmann::json resource_metadata_document(const core::auth::ProtectedResource& metadata,
                                          const std::string& resource);

}  // namespace mcpd::transports::http
