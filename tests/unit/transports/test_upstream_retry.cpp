#include <catch2/catch.hpp>

#include "transports/upstream/retry.hpp"

using namespace mcpd::transports::upstream;
using namespace std::chrono_literals;

TEST_CASE("idempotent methods", "[transports][upstream]") {
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}) CHECK(is_idempotent(m));
  for (const char* m : {"POST", "PATCH", "get", ""}) CHECK_FALSE(is_idempotent(m));
}

TEST_CASE("retries follow the seed's rules", "[transports][upstream]") {
  RetryPolicy policy;
  policy.max_retries = 2;
  SECTION("5xx, connection errors and timeouts are retried for idempotent methods") {
    CHECK(policy.should_retry("GET", 0, Outcome::response, 503));
    CHECK(policy.should_retry("GET", 1, Outcome::response, 500));
    CHECK(policy.should_retry("PUT", 0, Outcome::connect_failed, 0));
    CHECK(policy.should_retry("DELETE", 0, Outcome::timed_out, 0));
  }
  SECTION("never 4xx, 2xx, TLS refusals, oversize or cancelled calls") {
    for (unsigned status : {200u, 201u, 204u, 301u, 400u, 401u, 404u, 429u, 499u})
      CHECK_FALSE(policy.should_retry("GET", 0, Outcome::response, status));
    CHECK_FALSE(policy.should_retry("GET", 0, Outcome::tls_failed, 0));
    CHECK_FALSE(policy.should_retry("GET", 0, Outcome::too_large, 0));
    CHECK_FALSE(policy.should_retry("GET", 0, Outcome::cancelled, 0));
    CHECK_FALSE(policy.should_retry("GET", 0, Outcome::refused, 0));
  }
  SECTION("at most max_retries") {
    CHECK_FALSE(policy.should_retry("GET", 2, Outcome::response, 503));
    policy.max_retries = 0;
    CHECK_FALSE(policy.should_retry("GET", 0, Outcome::connect_failed, 0));
  }
  SECTION("POST and PATCH only when the tool says retry") {
    CHECK_FALSE(policy.should_retry("POST", 0, Outcome::response, 503));
    CHECK_FALSE(policy.should_retry("PATCH", 0, Outcome::connect_failed, 0));
    policy.retry_non_idempotent = true;
    CHECK(policy.should_retry("POST", 0, Outcome::response, 503));
    CHECK(policy.should_retry("PATCH", 0, Outcome::timed_out, 0));
    CHECK_FALSE(policy.should_retry("POST", 0, Outcome::response, 400));
  }
}

TEST_CASE("backoff doubles, is capped, and jitters the upper half", "[transports][upstream]") {
  RetryPolicy policy;
  policy.base_delay = 200ms;
  policy.max_delay = 1000ms;
  CHECK(policy.backoff(0, 0.0) == 100ms);
  CHECK(policy.backoff(0, 0.999) >= 199ms);
  CHECK(policy.backoff(1, 0.0) == 200ms);
  CHECK(policy.backoff(1, 1.0) == 400ms);
  CHECK(policy.backoff(2, 0.5) == 600ms);
  CHECK(policy.backoff(3, 1.0) == 1000ms);   // 1600 capped
  CHECK(policy.backoff(40, 1.0) == 1000ms);  // no overflow
  CHECK(policy.backoff(40, 0.0) == 500ms);
  for (int attempt = 0; attempt < 10; ++attempt)
    for (double unit : {0.0, 0.3, 0.7, 1.0}) {
      const auto delay = policy.backoff(attempt, unit);
      CHECK(delay >= policy.backoff(attempt, 0.0));
      CHECK(delay <= policy.max_delay);
    }
}
