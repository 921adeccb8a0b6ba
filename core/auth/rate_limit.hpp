#pragma once
// Token buckets per client key (a token id, else the peer address): a bucket holds at most
// `burst` tokens and refills at requests / window_seconds per second, so a client may spend
// `burst` at once and then sustain the average rate. The same class, with stricter options,
// limits failed authentication per address (see auth_failure_defaults()).
//
// What a request costs is request_cost(): the work a client asks for (tool calls, reads,
// prompt gets, completions), never the handshake, discovery, list calls, pings, subscriptions
// or notifications, so an interactive client (an inspector, the conformance suite) that lists
// and pings freely is not limited, while tool calls, the expensive part, are.
//
// Memory is bounded: a bucket untouched for as long as an empty bucket takes to refill is full
// again, which is the same as having no state, so it is dropped; past max_keys the least
// recently used bucket is evicted. Keys are spread over independently locked shards. Time is a
// parameter (steady_clock), so tests never sleep.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

namespace mcpd::core {

struct RateLimitOptions {
  std::uint32_t requests = 100;  // RATE_LIMIT_REQUESTS: the sustained rate, per window
  double window_seconds = 60;    // RATE_LIMIT_WINDOW
  std::uint32_t burst = 0;       // RATE_LIMIT_BURST: bucket capacity; 0 means `requests`
  std::size_t max_keys = 100000;
  std::size_t shards = 16;
};

// The rate-limit cost of one JSON-RPC request: 1 for tools/call, resources/read, prompts/get
// and completion/complete; 0 for everything else (initialize, server/discover, ping, */list,
// resources/templates/list, subscriptions, logging/setLevel). Notifications and responses are
// not requests and cost nothing either. A batch costs the sum of its requests.
std::uint32_t request_cost(std::string_view method);

struct RateDecision {
  bool allowed = true;
  // When refused: whole seconds until the next request would be allowed (for Retry-After),
  // at least 1. 0 when allowed.
  std::uint32_t retry_after_seconds = 0;
  std::uint32_t remaining = 0;  // whole tokens left after this decision
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws mcpd::Error naming the setting when an option is out of range.
  explicit RateLimiter(RateLimitOptions options = {});
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Stricter defaults for the failed-authentication limiter: 10 failures per 60 s per address.
  static RateLimitOptions auth_failure_defaults();

  // Takes `cost` tokens from `key`'s bucket if it has that many; takes nothing when refused.
  // A cost of 0 is always allowed and creates no state. A cost above the burst is never
  // allowed (its retry_after is the time a bucket takes to fill); callers refuse it first.
  RateDecision check(std::string_view key, Clock::time_point now, std::uint32_t cost = 1);
  RateDecision check(std::string_view key, std::uint32_t cost = 1) {
    return check(key, Clock::now(), cost);
  }
  // Would check() allow `cost` from `key` now? Takes nothing (the failed-auth
  // limiter asks this before authenticating and calls check() only when authentication fails).
  RateDecision peek(std::string_view key, Clock::time_point now, std::uint32_t cost = 1) const;
  RateDecision peek(std::string_view key) const { return peek(key, Clock::now()); }

  // Drops every bucket that has refilled completely by `now`; returns how many. check() also
  // drops buckets untouched for a window as it goes, so calling this is optional.
  std::size_t prune(Clock::time_point now);
  // Clients currently tracked (for mcp_rate_limit_clients). Lock-free.
  std::size_t size() const;

  // The options in effect (burst resolved: never 0).
  const RateLimitOptions& options() const { return m_options; }

 private:
  struct Shard;
  Shard& shard_for(std::string_view key) const;

  RateLimitOptions m_options;
  double m_rate;             // tokens per second
  Clock::duration m_refill;  // an idle bucket is full again after this long
  std::size_t m_shard_capacity;
  std::unique_ptr<Shard[]> m_shards;
  std::atomic<std::size_t> m_size{0};
};

}  // namespace mcpd::core
