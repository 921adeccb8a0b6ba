#pragma once
// The http handler (PRODUCT.md §3): a tool call or resource read becomes one request to a
// named upstream, the seed's SecureAPIClient. Templates are filled with encoded values, the
// upstream's credentials, X-Correlation-ID and X-MCP-User are added (the client's own bearer
// token never is), idempotent requests are retried on connection errors, timeouts and 5xx,
// and the answer becomes a CallToolResult. Also the upstreams' readiness checks.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/handlers/runner.hpp"
#include "transports/upstream/address_rules.hpp"
#include "transports/upstream/client.hpp"
#include "transports/upstream/retry.hpp"

namespace mcpd::transports::upstream {

using json = nlohmann::json;

// The largest upstream response read (bytes); a larger one is a tool error.
inline constexpr std::size_t k_max_response_bytes = 4 * 1024 * 1024;

struct InvokerOptions {
  std::chrono::milliseconds base_delay{200};       // first retry backoff, doubled per retry
  std::chrono::milliseconds max_delay{5000};       // backoff cap
  std::chrono::milliseconds health_ttl{5000};      // a health result is reused this long
  std::chrono::milliseconds health_timeout{5000};  // at most this (and the upstream's timeout)
};

class UpstreamInvoker : public core::HttpInvoker {
 public:
  // Throws mcpd::Error naming the setting for a base URL or ca_file it cannot use.
  // `rules` guard the addresses every upstream connects to (address_rules(settings)).
  UpstreamInvoker(const std::map<std::string, core::UpstreamSettings>& upstreams,
                  const AddressRules& rules, InvokerOptions options = {});
  ~UpstreamInvoker() override;

  json call(const core::HttpHandlerSpec& spec, const json& values, core::CallContext& ctx) override;

  // Upstreams with a health_path, in name order.
  std::vector<std::string> health_checked() const;
  // GET health_path answered 2xx. The result is cached for health_ttl so probes never
  // hammer the upstream; concurrent probes share one request. False for unknown names.
  bool healthy(const std::string& name);

 private:
  struct Upstream;
  Upstream* find(const std::string& name) const;

  InvokerOptions m_options;
  std::map<std::string, std::unique_ptr<Upstream>> m_upstreams;
};

}  // namespace mcpd::transports::upstream
