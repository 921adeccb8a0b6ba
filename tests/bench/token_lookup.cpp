// Token lookups per second through the full validation chain (parse, hash, find_by_hash,
// checks, coalesced usage write), single- and multi-threaded.
//
//   bench_token_lookup URL [seconds] [threads]
//   e.g. bench_token_lookup sqlite:///tmp/bench.db 5 4
//        bench_token_lookup "$(cat build/tests/pg/url)" 5 4
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/auth/authenticator.hpp"
#include "core/auth/token.hpp"
#include "core/auth/token_service.hpp"
#include "storage/token_store.hpp"

using namespace mcpd;
using Clock = std::chrono::steady_clock;

namespace {

double run(const std::shared_ptr<storage::TokenStore>& store,
           const std::vector<std::string>& tokens, int threads,
           std::chrono::duration<double> duration) {
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  std::atomic<bool> stop{false};
  // Uncached: every lookup reaches the store.
  core::auth::Authenticator::Options options;
  options.cache.ttl = std::chrono::milliseconds{0};
  core::auth::Authenticator authenticator(store, std::move(options));
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      long i = t;
      while (!stop.load(std::memory_order_relaxed)) {
        const auto& token = tokens[static_cast<std::size_t>(i++) % tokens.size()];
        if (authenticator.authenticate(token).ok())
          done.fetch_add(1, std::memory_order_relaxed);
        else
          failed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(duration);
  stop = true;
  for (auto& w : workers) w.join();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  if (failed) std::fprintf(stderr, "%ld lookups failed\n", failed.load());
  return static_cast<double>(done) / elapsed.count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [seconds] [threads]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const double seconds = argc > 2 ? std::atof(argv[2]) : 5.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 4;

  auto opened = storage::open_store(url);
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
    return 3;
  }
  std::shared_ptr<storage::TokenStore> shared = std::move(*opened);
  auto& store = *shared;
  const std::string email = "bench-" + std::to_string(::time(nullptr)) + "@example.com";
  if (auto added = store.add_user(email, "bench"); !added) {
    std::fprintf(stderr, "add_user: %s\n", added.error().message.c_str());
    return 1;
  }
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) {
    core::auth::TokenRequest request{email, "bench-" + std::to_string(i), {}, std::nullopt};
    auto issued = core::auth::issue_token(store, {}, request, core::auth::now_seconds());
    if (!issued) {
      std::fprintf(stderr, "issue_token: %s\n", issued.error().message.c_str());
      return 1;
    }
    tokens.push_back(issued->plaintext);
  }
  const std::chrono::duration<double> duration{seconds};
  std::printf("%s backend, 100 tokens, %.1f s per run\n", store.backend().c_str(), seconds);
  std::printf("  1 thread : %10.0f lookups/s\n", run(shared, tokens, 1, duration));
  std::printf("  %d threads: %10.0f lookups/s\n", threads, run(shared, tokens, threads, duration));
  return 0;
}
