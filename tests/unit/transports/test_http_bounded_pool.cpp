// The HTTP worker queue is bounded: jobs past max_queued are refused (the server answers 503),
// a reserved place is given back when unused, and refusals are reported.

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <vector>

#include "transports/http/bounded_pool.hpp"

using mcpd::transports::http::BoundedPool;
using mcpd::transports::http::overloaded;

namespace {

// Occupies the pool's only thread until release() (no sleeps: the test waits on futures).
struct Blocker {
  std::promise<void> started;
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();

  void occupy(BoundedPool& pool) {
    REQUIRE(pool.try_post([this] {
      started.set_value();
      opened.wait();
    }));
    started.get_future().wait();
  }
  void release() { gate.set_value(); }
};

}  // namespace

TEST_CASE("a full queue refuses jobs and reports each refusal", "[transports][http]") {
  std::atomic<int> rejected{0};
  BoundedPool pool("workers", 1, 2, [&] { ++rejected; });
  Blocker blocker;
  blocker.occupy(pool);
  CHECK(pool.queued() == 0);  // a running job takes no place in the queue

  std::atomic<int> ran{0};
  CHECK(pool.try_post([&] { ++ran; }));
  CHECK(pool.try_post([&] { ++ran; }));
  CHECK(pool.queued() == 2);
  CHECK_FALSE(pool.try_post([&] { ran += 100; }));  // never runs
  CHECK_FALSE(pool.reserve());
  CHECK(rejected == 2);
  CHECK(pool.queued() == 2);

  blocker.release();
  pool.join();
  CHECK(ran == 2);
  CHECK(pool.queued() == 0);
}

TEST_CASE("the queue takes jobs again as they start", "[transports][http]") {
  BoundedPool pool("workers", 1, 1);
  for (int round = 0; round < 3; ++round) {
    Blocker blocker;
    blocker.occupy(pool);
    std::promise<void> done;
    REQUIRE(pool.try_post([&] { done.set_value(); }));
    CHECK_FALSE(pool.try_post([] {}));
    blocker.release();
    done.get_future().wait();
  }
  pool.join();
}

TEST_CASE("a reserved place is held until posted or dropped", "[transports][http]") {
  int rejected = 0;
  BoundedPool pool("auxiliary", 1, 1, [&] { ++rejected; });
  Blocker blocker;
  blocker.occupy(pool);
  {
    auto slot = pool.reserve();
    REQUIRE(slot);
    CHECK(pool.queued() == 1);
    CHECK_FALSE(pool.reserve());  // the reservation holds the only place
    auto moved = std::move(slot);
    CHECK_FALSE(slot);
    CHECK(pool.queued() == 1);
  }  // dropped unused: the place is free again
  CHECK(pool.queued() == 0);
  CHECK(rejected == 1);

  std::promise<void> done;
  auto slot = pool.reserve();
  REQUIRE(slot);
  pool.post(std::move(slot), [&] { done.set_value(); });
  CHECK(pool.queued() == 1);
  blocker.release();
  done.get_future().wait();
  pool.join();
  CHECK(pool.queued() == 0);
}

TEST_CASE("concurrent reservations never exceed the bound", "[transports][http]") {
  BoundedPool pool("workers", 1, 50);
  Blocker blocker;
  blocker.occupy(pool);
  std::vector<BoundedPool::Slot> slots[4];
  std::vector<std::thread> threads;
  for (auto& mine : slots)
    threads.emplace_back([&pool, &mine] {
      for (int i = 0; i < 100; ++i)
        if (auto slot = pool.reserve()) mine.push_back(std::move(slot));
    });
  for (auto& thread : threads) thread.join();
  std::size_t total = 0;
  for (const auto& mine : slots) total += mine.size();
  CHECK(total == 50);
  CHECK(pool.queued() == 50);
  for (auto& mine : slots) mine.clear();
  CHECK(pool.queued() == 0);
  blocker.release();
  pool.join();
}

TEST_CASE("the overload answer is 503 with Retry-After", "[transports][http]") {
  const auto rpc = overloaded();
  CHECK(rpc.status == 503);
  CHECK(rpc.body.find("\"code\":-32000") != std::string::npos);
  const auto plain = overloaded(false);
  CHECK(plain.status == 503);
  CHECK(plain.body.find("\"error\":\"overloaded\"") != std::string::npos);
  for (const auto* response : {&rpc, &plain}) {
    bool found = false;
    for (const auto& [name, value] : response->headers)
      if (name == "Retry-After") found = value == "1";
    CHECK(found);
  }
}
