#pragma once
// When an upstream call is tried again, and after how long (the seed's SecureAPIClient:
// exponential backoff, connection errors and 5xx only). Pure functions, so the rules are unit
// tested without a network.

#include <chrono>
#include <cstdint>
#include <string_view>

namespace mcpd::transports::upstream {

// How one attempt ended.
enum class Outcome {
  response,        // an HTTP response arrived (see the status)
  connect_failed,  // DNS, refused, reset before a response, a broken response
  timed_out,       // no complete response within the timeout
  tls_failed,      // certificate refused: retrying cannot help
  too_large,       // the response passed the size cap
  cancelled,       // the caller went away
  refused,         // every address of the upstream is refused by the address rules
};

// GET HEAD PUT DELETE OPTIONS (RFC 9110 §9.2.2; TRACE is never sent).
bool is_idempotent(std::string_view method);

struct RetryPolicy {
  int max_retries = 3;                // retries after the first attempt
  bool retry_non_idempotent = false;  // the tool's "retry": true
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};

  // Whether attempt number `attempt` (0 = the first) that ended with `outcome` (and `status`
  // for responses) is followed by another attempt of `method`.
  bool should_retry(std::string_view method, int attempt, Outcome outcome, unsigned status) const;

  // The wait before retry number `attempt` + 1: base * 2^attempt capped at max, of which the
  // upper half is random (`unit` in [0, 1)), so clients that failed together do not come back
  // together.
  std::chrono::milliseconds backoff(int attempt, double unit) const;
};

}  // namespace mcpd::transports::upstream
