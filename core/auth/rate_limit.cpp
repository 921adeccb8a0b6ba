#include "core/auth/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/config/error.hpp"

namespace mcpd::core {

namespace {

// Absorbs rounding in the refill arithmetic, so a bucket refilled for exactly the time one
// token takes really holds one token.
constexpr double k_epsilon = 1e-9;

struct Bucket {
  std::string key;
  double tokens;
  RateLimiter::Clock::time_point updated;
};

}  // namespace

struct RateLimiter::Shard {
  mutable std::mutex mutex;
  std::list<Bucket> lru;  // most recently used first
  std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;  // views into lru

  void erase(std::list<Bucket>::iterator bucket) {
    index.erase(bucket->key);
    lru.erase(bucket);
  }
};

namespace {

double tokens_at(const Bucket& bucket, RateLimiter::Clock::time_point now, double rate,
                 double capacity) {
  if (now <= bucket.updated) return bucket.tokens;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  return std::min(capacity, bucket.tokens + elapsed * rate);
}

// Can `cost` tokens be taken from `tokens`? When not, how long until they can: for a cost above
// the capacity (never allowed), until the bucket is full.
RateDecision decide(double tokens, double rate, double capacity, double cost) {
  RateDecision decision;
  if (cost <= capacity && tokens + k_epsilon >= cost) {
    decision.allowed = true;
    decision.remaining = static_cast<std::uint32_t>(std::floor(tokens - cost + k_epsilon));
    return decision;
  }
  decision.allowed = false;
  const double wait = std::ceil((std::min(cost, capacity) - tokens) / rate - k_epsilon);
  const double limit = std::numeric_limits<std::uint32_t>::max();
  decision.retry_after_seconds = static_cast<std::uint32_t>(std::clamp(wait, 1.0, limit));
  return decision;
}

}  // namespace

RateLimiter::RateLimiter(RateLimitOptions options) : m_options(options) {
  if (m_options.requests < 1) throw Error("RATE_LIMIT_REQUESTS must be at least 1");
  if (m_options.burst == 0) m_options.burst = m_options.requests;
  if (!std::isfinite(m_options.window_seconds) || m_options.window_seconds <= 0 ||
      m_options.window_seconds > 365.0 * 24 * 3600) {
    throw Error("RATE_LIMIT_WINDOW must be a positive number of seconds (at most a year)");
  }
  if (m_options.max_keys < 1) throw Error("rate limiter max_keys must be at least 1");
  m_options.shards = std::clamp<std::size_t>(m_options.shards, 1, m_options.max_keys);
  m_rate = m_options.requests / m_options.window_seconds;
  // Capped where steady_clock's range ends (a century is as good as forever here).
  const double refill_seconds = std::min(m_options.burst / m_rate, 100.0 * 365 * 24 * 3600);
  m_refill =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(refill_seconds));
  m_shard_capacity = (m_options.max_keys + m_options.shards - 1) / m_options.shards;
  m_shards = std::make_unique<Shard[]>(m_options.shards);
}

RateLimiter::~RateLimiter() = default;

RateLimitOptions RateLimiter::auth_failure_defaults() {
  RateLimitOptions options;
  options.requests = 10;
  options.window_seconds = 60;
  options.max_keys = 100000;
  return options;
}

RateLimiter::Shard& RateLimiter::shard_for(std::string_view key) const {
  return m_shards[std::hash<std::string_view>{}(key) % m_options.shards];
}

std::uint32_t request_cost(std::string_view method) {
  return method == "tools/call" || method == "resources/read" || method == "prompts/get" ||
                 method == "completion/complete"
             ? 1
             : 0;
}

RateDecision RateLimiter::check(std::string_view key, Clock::time_point now, std::uint32_t cost) {
  if (cost == 0 || cost > m_options.burst) return peek(key, now, cost);
  auto& shard = shard_for(key);
  const double capacity = m_options.burst;
  std::lock_guard lock(shard.mutex);

  // Buckets idle for a refill are full: forget them (they are at the back of the LRU list).
  while (!shard.lru.empty() && now - shard.lru.back().updated >= m_refill) {
    shard.erase(std::prev(shard.lru.end()));
    m_size.fetch_sub(1, std::memory_order_relaxed);
  }

  std::list<Bucket>::iterator bucket;
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    bucket = found->second;
    shard.lru.splice(shard.lru.begin(), shard.lru, bucket);
  } else {
    if (shard.index.size() >= m_shard_capacity) {
      shard.erase(std::prev(shard.lru.end()));
      m_size.fetch_sub(1, std::memory_order_relaxed);
    }
    shard.lru.push_front(Bucket{std::string(key), capacity, now});
    bucket = shard.lru.begin();
    shard.index.emplace(bucket->key, bucket);
    m_size.fetch_add(1, std::memory_order_relaxed);
  }

  bucket->tokens = tokens_at(*bucket, now, m_rate, capacity);
  bucket->updated = std::max(bucket->updated, now);
  const auto decision = decide(bucket->tokens, m_rate, capacity, cost);
  if (decision.allowed) bucket->tokens = std::max(0.0, bucket->tokens - cost);
  return decision;
}

RateDecision RateLimiter::peek(std::string_view key, Clock::time_point now,
                               std::uint32_t cost) const {
  auto& shard = shard_for(key);
  const double capacity = m_options.burst;
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(key);
  const double tokens =
      found == shard.index.end() ? capacity : tokens_at(*found->second, now, m_rate, capacity);
  return decide(tokens, m_rate, capacity, cost);
}

std::size_t RateLimiter::prune(Clock::time_point now) {
  const double capacity = m_options.burst;
  std::size_t removed = 0;
  for (std::size_t i = 0; i < m_options.shards; ++i) {
    auto& shard = m_shards[i];
    std::lock_guard lock(shard.mutex);
    for (auto bucket = shard.lru.begin(); bucket != shard.lru.end();) {
      const auto next = std::next(bucket);
      if (tokens_at(*bucket, now, m_rate, capacity) + k_epsilon >= capacity) {
        shard.erase(bucket);
        ++removed;
      }
      bucket = next;
    }
  }
  m_size.fetch_sub(removed, std::memory_order_relaxed);
  return removed;
}

std::size_t RateLimiter::size() const {
  return m_size.load(std::memory_order_relaxed);
}

}  // namespace mcpd::core
