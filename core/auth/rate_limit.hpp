#pragma once
// Token buckets per client key (a token id, else the peer address): a bucket holds at most
// `requests` tokens and refills at requests / window_seconds per second, so a client may burst
// `requests` at once and then sustain the average rate. The same class, with stricter options,
// limits failed authentication per address (see auth_failure_defaults()).
//
// Memory is bounded: a bucket untouched for a whole window is full again, which is the same as
// having no state, so it is dropped; past max_keys the least recently used bucket is evicted.
// Keys are spread over independently locked shards. Time is a parameter (steady_clock), so
// tests never sleep.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

namespace mcpd::core {

struct RateLimitOptions {
  std::uint32_t requests = 100;  // RATE_LIMIT_REQUESTS: bucket capacity (burst)
  double window_seconds = 60;    // RATE_LIMIT_WINDOW: time to refill an empty bucket
  std::size_t max_keys = 100000;
  std::size_t shards = 16;
};

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

  // Takes one token from `key`'s bucket if it has one.
  RateDecision check(std::string_view key, Clock::time_point now);
  RateDecision check(std::string_view key) { return check(key, Clock::now()); }
  // Would check() allow `key` now? Takes nothing (the failed-auth limiter asks this before
  // authenticating and calls check() only when authentication fails).
  RateDecision peek(std::string_view key, Clock::time_point now) const;
  RateDecision peek(std::string_view key) const { return peek(key, Clock::now()); }

  // Drops every bucket that has refilled completely by `now`; returns how many. check() also
  // drops buckets untouched for a window as it goes, so calling this is optional.
  std::size_t prune(Clock::time_point now);
  // Clients currently tracked (for mcp_rate_limit_clients). Lock-free.
  std::size_t size() const;

  const RateLimitOptions& options() const { return m_options; }

 private:
  struct Shard;
  Shard& shard_for(std::string_view key) const;

  RateLimitOptions m_options;
  double m_rate;             // tokens per second
  Clock::duration m_window;  // an idle bucket is full again after this long
  std::size_t m_shard_capacity;
  std::unique_ptr<Shard[]> m_shards;
  std::atomic<std::size_t> m_size{0};
};

}  // namespace mcpd::core
