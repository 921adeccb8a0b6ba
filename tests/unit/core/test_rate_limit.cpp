#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/auth/rate_limit.hpp"
#include "core/config/error.hpp"

using namespace mcpd::core;
using namespace std::chrono_literals;

namespace {

using Clock = RateLimiter::Clock;
const Clock::time_point t0 = Clock::time_point{} + 1000h;

RateLimitOptions options(std::uint32_t requests, double window, std::size_t max_keys = 1000,
                         std::size_t shards = 4) {
  RateLimitOptions o;
  o.requests = requests;
  o.window_seconds = window;
  o.max_keys = max_keys;
  o.shards = shards;
  return o;
}

RateLimitOptions with_burst(std::uint32_t requests, double window, std::uint32_t burst) {
  RateLimitOptions o = options(requests, window);
  o.burst = burst;
  return o;
}

int allowed_count(RateLimiter& limiter, const std::string& key, int attempts,
                  Clock::time_point now) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += limiter.check(key, now).allowed ? 1 : 0;
  return allowed;
}

}  // namespace

TEST_CASE("defaults follow RATE_LIMIT_REQUESTS and RATE_LIMIT_WINDOW", "[core][rate_limit]") {
  const RateLimitOptions defaults;
  CHECK(defaults.requests == 100);
  CHECK(defaults.window_seconds == 60);
  CHECK(defaults.burst == 0);
  // An unset burst is the requests per window.
  CHECK(RateLimiter(defaults).options().burst == 100);
  const auto auth = RateLimiter::auth_failure_defaults();
  CHECK(auth.requests == 10);
  CHECK(auth.window_seconds == 60);
}

TEST_CASE("a full bucket allows a burst of `requests`, then refuses", "[core][rate_limit]") {
  RateLimiter limiter(options(5, 10));
  for (int i = 0; i < 5; ++i) {
    const auto d = limiter.check("client", t0);
    CHECK(d.allowed);
    CHECK(d.remaining == static_cast<std::uint32_t>(4 - i));
    CHECK(d.retry_after_seconds == 0);
  }
  const auto refused = limiter.check("client", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_seconds == 2);  // one token per 2 s
  CHECK(refused.remaining == 0);
  // Other clients have their own bucket.
  CHECK(limiter.check("other", t0).allowed);
}

TEST_CASE("tokens refill at requests/window", "[core][rate_limit]") {
  RateLimiter limiter(options(5, 10));  // 0.5 tokens per second
  CHECK(allowed_count(limiter, "c", 5, t0) == 5);
  CHECK_FALSE(limiter.check("c", t0 + 1s).allowed);  // half a token
  CHECK(limiter.check("c", t0 + 2s).allowed);        // exactly one token, on the boundary
  CHECK_FALSE(limiter.check("c", t0 + 2s).allowed);
  // After 6 more seconds: 3 tokens.
  CHECK(allowed_count(limiter, "c", 10, t0 + 8s) == 3);
  // Long idle: the bucket never holds more than its capacity.
  CHECK(allowed_count(limiter, "c", 10, t0 + 1h) == 5);
}

TEST_CASE("retry_after is the ceiling of the wait, at least 1", "[core][rate_limit]") {
  RateLimiter fast(options(100, 60));  // 1 token per 0.6 s
  CHECK(allowed_count(fast, "c", 100, t0) == 100);
  auto d = fast.check("c", t0);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 1);  // 0.6 s rounds up to 1
  d = fast.check("c", t0 + 500ms);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 1);  // 0.1 s left still says 1

  RateLimiter slow(options(2, 60));  // 1 token per 30 s
  CHECK(allowed_count(slow, "c", 2, t0) == 2);
  CHECK(slow.check("c", t0).retry_after_seconds == 30);
  CHECK(slow.check("c", t0 + 10s).retry_after_seconds == 20);
  CHECK(slow.check("c", t0 + 29500ms).retry_after_seconds == 1);
  CHECK(slow.check("c", t0 + 30s).allowed);
  // Waiting exactly retry_after is enough.
  const auto refused = slow.check("c", t0 + 31s);
  REQUIRE_FALSE(refused.allowed);
  CHECK(slow.check("c", t0 + 31s + std::chrono::seconds(refused.retry_after_seconds)).allowed);
}

TEST_CASE("refused requests do not use tokens", "[core][rate_limit]") {
  RateLimiter limiter(options(1, 10));
  CHECK(limiter.check("c", t0).allowed);
  for (int i = 0; i < 100; ++i) CHECK_FALSE(limiter.check("c", t0 + 5s).allowed);
  CHECK(limiter.check("c", t0 + 10s).allowed);
}

TEST_CASE("peek tells without taking, the failed-auth pattern", "[core][rate_limit]") {
  RateLimiter failures(RateLimiter::auth_failure_defaults());
  const std::string ip = "203.0.113.7";
  CHECK(failures.peek(ip, t0).allowed);
  CHECK(failures.size() == 0);  // peeking creates no state
  // Ten failed attempts are recorded; an eleventh attempt is refused before authenticating.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(failures.peek(ip, t0).allowed);
    failures.check(ip, t0);
  }
  const auto blocked = failures.peek(ip, t0);
  CHECK_FALSE(blocked.allowed);
  CHECK(blocked.retry_after_seconds == 6);
  CHECK_FALSE(failures.peek(ip, t0 + 5s).allowed);
  CHECK(failures.peek(ip, t0 + 6s).allowed);
  CHECK(failures.peek("198.51.100.1", t0).allowed);
}

TEST_CASE("clock going backwards does not mint tokens", "[core][rate_limit]") {
  RateLimiter limiter(options(2, 10));
  CHECK(allowed_count(limiter, "c", 2, t0 + 10s) == 2);
  CHECK_FALSE(limiter.check("c", t0).allowed);  // an older timestamp from another thread
  CHECK_FALSE(limiter.check("c", t0 + 10s).allowed);
  CHECK(limiter.check("c", t0 + 15s).allowed);
}

TEST_CASE("idle buckets are forgotten", "[core][rate_limit]") {
  RateLimiter limiter(options(3, 10, 1000, 1));
  for (int i = 0; i < 20; ++i) limiter.check("client" + std::to_string(i), t0);
  CHECK(limiter.size() == 20);
  limiter.check("busy", t0 + 9s);
  CHECK(limiter.size() == 21);
  // A window later, the next check drops every bucket idle that long.
  limiter.check("busy", t0 + 10s);
  CHECK(limiter.size() == 1);
}

TEST_CASE("prune drops exactly the buckets that are full again", "[core][rate_limit]") {
  RateLimiter limiter(options(4, 8, 1000, 4));            // 0.5 tokens per second
  limiter.check("one_used", t0);                          // 3 left: full after 2 s
  CHECK(allowed_count(limiter, "all_used", 4, t0) == 4);  // full after 8 s
  CHECK(limiter.size() == 2);
  CHECK(limiter.prune(t0 + 1s) == 0);
  CHECK(limiter.prune(t0 + 2s) == 1);
  CHECK(limiter.size() == 1);
  // The survivor kept its state.
  CHECK_FALSE(limiter.peek("all_used", t0 + 1s).allowed);
  CHECK(limiter.prune(t0 + 8s) == 1);
  CHECK(limiter.size() == 0);
  // A dropped bucket behaves exactly as the full bucket it was.
  CHECK(allowed_count(limiter, "all_used", 5, t0 + 8s) == 4);
}

TEST_CASE("memory is bounded by max_keys, evicting the least recently used", "[core][rate_limit]") {
  RateLimiter limiter(options(1, 60, 3, 1));
  limiter.check("a", t0);
  limiter.check("b", t0 + 1s);
  limiter.check("c", t0 + 2s);
  CHECK(limiter.size() == 3);
  limiter.check("a", t0 + 3s);  // refused, but "a" is now the most recently used
  limiter.check("d", t0 + 4s);  // evicts "b"
  CHECK(limiter.size() == 3);
  CHECK_FALSE(limiter.peek("a", t0 + 4s).allowed);
  CHECK_FALSE(limiter.peek("c", t0 + 4s).allowed);
  CHECK_FALSE(limiter.peek("d", t0 + 4s).allowed);
  CHECK(limiter.peek("b", t0 + 4s).allowed);  // forgotten: a fresh bucket

  RateLimiter many(options(1, 60, 1000, 8));
  for (int i = 0; i < 5000; ++i) many.check("k" + std::to_string(i), t0);
  CHECK(many.size() <= 1000 + 8);  // per-shard capacity rounds up
  CHECK(many.size() >= 900);
}

TEST_CASE("the burst is the capacity, requests/window stays the refill rate",
          "[core][rate_limit]") {
  RateLimiter small(with_burst(6, 60, 3));  // 0.1 tokens per second, at most 3
  CHECK(allowed_count(small, "c", 10, t0) == 3);
  const auto refused = small.check("c", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_seconds == 10);
  CHECK_FALSE(small.check("c", t0 + 9s).allowed);
  CHECK(small.check("c", t0 + 10s).allowed);
  CHECK(allowed_count(small, "c", 10, t0 + 1h) == 3);  // never more than the burst

  RateLimiter large(with_burst(2, 10, 10));  // 0.2 tokens per second, up to 10 at once
  CHECK(allowed_count(large, "c", 20, t0) == 10);
  CHECK(large.check("c", t0).retry_after_seconds == 5);
  CHECK(allowed_count(large, "c", 20, t0 + 10s) == 2);  // the sustained rate
  CHECK(allowed_count(large, "c", 20, t0 + 1h) == 10);
}

TEST_CASE("an idle bucket is kept until it has refilled completely", "[core][rate_limit]") {
  RateLimiter limiter(with_burst(1, 10, 10));  // empty to full takes 100 s
  auto o = limiter.options();
  CHECK(o.burst == 10);
  CHECK(allowed_count(limiter, "c", 10, t0) == 10);
  limiter.check("other", t0 + 60s);  // a check elsewhere sweeps idle buckets
  CHECK(limiter.size() == 2);        // "c" is not full yet: forgetting it would mint tokens
  CHECK(allowed_count(limiter, "c", 10, t0 + 60s) == 6);
  CHECK(limiter.prune(t0 + 100s) == 1);  // "other" (full at t0+70s)
  CHECK(limiter.prune(t0 + 160s) == 1);  // "c", last used at t0+60s
  CHECK(limiter.size() == 0);
}

TEST_CASE("a request may cost several tokens, all or nothing", "[core][rate_limit]") {
  RateLimiter limiter(with_burst(1, 1, 5));  // 1 token per second, up to 5
  auto d = limiter.check("c", t0, 3);
  CHECK(d.allowed);
  CHECK(d.remaining == 2);
  d = limiter.check("c", t0, 3);  // 2 left: refused, and the 2 stay
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 1);
  CHECK(limiter.check("c", t0, 2).allowed);
  CHECK(limiter.check("c", t0 + 2s, 3).retry_after_seconds == 1);
  CHECK(limiter.check("c", t0 + 3s, 3).allowed);
  // Waiting retry_after seconds is enough for that cost.
  d = limiter.check("c", t0 + 3s, 4);
  REQUIRE_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 4);
  CHECK(limiter.check("c", t0 + 7s, 4).allowed);
}

TEST_CASE("cost 0 is always allowed and costs no memory", "[core][rate_limit]") {
  RateLimiter limiter(options(1, 60));
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.check("c", t0, 0).allowed);
  CHECK(limiter.size() == 0);
  CHECK(limiter.check("c", t0).allowed);
  CHECK_FALSE(limiter.check("c", t0).allowed);
  CHECK(limiter.check("c", t0, 0).allowed);  // even with an empty bucket
}

TEST_CASE("a cost above the burst is never allowed", "[core][rate_limit]") {
  RateLimiter limiter(with_burst(1, 2, 3));  // 0.5 per second, up to 3
  auto d = limiter.check("c", t0, 4);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 1);  // the bucket is full: at least 1
  CHECK(limiter.size() == 0);
  CHECK(limiter.check("c", t0, 3).allowed);
  CHECK(limiter.check("c", t0, 4).retry_after_seconds == 6);  // the time to fill up
  CHECK_FALSE(limiter.check("c", t0 + 1h, 4).allowed);
}

TEST_CASE("only the work counts: what request_cost charges", "[core][rate_limit]") {
  for (const char* method : {"tools/call", "resources/read", "prompts/get", "completion/complete"})
    CHECK(request_cost(method) == 1);
  for (const char* method :
       {"initialize", "server/discover", "ping", "tools/list", "resources/list",
        "resources/templates/list", "prompts/list", "resources/subscribe", "resources/unsubscribe",
        "subscriptions/listen", "logging/setLevel", "notifications/initialized",
        "notifications/cancelled", "", "tools/call/", "TOOLS/CALL"})
    CHECK(request_cost(method) == 0);
}

TEST_CASE("bad settings are refused with the setting's name", "[core][rate_limit]") {
  CHECK_THROWS_WITH(RateLimiter(options(0, 60)), Catch::Contains("RATE_LIMIT_REQUESTS"));
  CHECK_THROWS_WITH(RateLimiter(options(10, 0)), Catch::Contains("RATE_LIMIT_WINDOW"));
  CHECK_THROWS_WITH(RateLimiter(options(10, -5)), Catch::Contains("RATE_LIMIT_WINDOW"));
  CHECK_THROWS_AS(RateLimiter(options(10, std::nan(""))), mcpd::Error);
  CHECK_THROWS_AS(RateLimiter(options(10, 60, 0)), mcpd::Error);
  CHECK_NOTHROW(RateLimiter(options(1, 0.5, 1, 64)));  // shards clamp to max_keys
}

TEST_CASE("concurrent checks never allow more than the capacity", "[core][rate_limit]") {
  RateLimiter limiter(options(1000, 3600, 100000, 4));
  constexpr int k_threads = 4;
  std::vector<std::thread> threads;
  std::vector<int> allowed(k_threads, 0);
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (limiter.check("shared", t0).allowed) ++allowed[t];
        limiter.check("own" + std::to_string(t * 10000 + i % 50), t0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  int total = 0;
  for (const int n : allowed) total += n;
  CHECK(total == 1000);
  CHECK(limiter.size() == 1 + k_threads * 50);
}
