// The I/O threads' event loops: one io_context per thread, connections handed out round-robin,
// stopped together, and destroyed safely while handlers on one context still own sockets of
// another (ASan turns a wrong destruction order into a failure here).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "transports/http/connection.hpp"
#include "transports/http/io_context_pool.hpp"

namespace net = boost::asio;
using namespace mcpd::transports::http;
using namespace std::chrono_literals;

TEST_CASE("next() hands out every context in turn, context 0 first", "[transports][http]") {
  IoContextPool pool(3);
  CHECK(pool.size() == 3);
  std::vector<net::io_context*> handed;
  for (int i = 0; i < 6; ++i) handed.push_back(&pool.next());
  CHECK(handed[0] == &pool.main());
  CHECK(std::set<net::io_context*>(handed.begin(), handed.end()).size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(handed[i] == handed[i + 3]);

  IoContextPool single(0);  // at least one
  CHECK(single.size() == 1);
  CHECK(&single.next() == &single.main());
}

TEST_CASE("each context runs on a thread of its own until stop()", "[transports][http]") {
  IoContextPool pool(3);
  auto keep_main = net::make_work_guard(pool.main());  // context 0 has nothing else to do
  std::promise<void> returned;
  std::thread runner([&] {
    pool.run();
    returned.set_value();
  });

  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::vector<std::future<void>> ran;
  for (int i = 0; i < 3; ++i) {
    auto done = std::make_shared<std::promise<void>>();
    ran.push_back(done->get_future());
    net::post(pool.next(), [&, done] {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
      done->set_value();
    });
  }
  for (auto& future : ran) REQUIRE(future.wait_for(60s) == std::future_status::ready);
  CHECK(threads.size() == 3);
  CHECK(threads.count(runner.get_id()) == 1);  // context 0 runs on the thread calling run()

  auto stopped = returned.get_future();
  CHECK(stopped.wait_for(50ms) == std::future_status::timeout);  // the work guards hold
  pool.stop();
  CHECK(stopped.wait_for(60s) == std::future_status::ready);
  runner.join();
}

TEST_CASE("run() stops every context once context 0 is done", "[transports][http]") {
  IoContextPool pool(3);
  pool.run();  // context 0 has no work: returns, and the others (held by guards) are stopped
  for (int i = 0; i < 3; ++i) CHECK(pool.next().stopped());
}

TEST_CASE("handlers left on one context may own sockets of another", "[transports][http]") {
  auto pool = std::make_unique<IoContextPool>(3);
  net::io_context& first = pool->next();
  net::io_context& second = pool->next();
  net::io_context& third = pool->next();
  auto open_on = [](net::io_context& context) {
    auto socket = std::make_shared<Socket>(context.get_executor());
    socket->open(tcp::v4());
    return socket;
  };
  // Queued, never run: the pool destroys them, and with them the last owner of each socket.
  net::post(first, [socket = open_on(third)] {});
  net::post(third, [socket = open_on(first)] {});
  net::post(net::make_strand(second), [socket = open_on(third)] {});
  pool->stop();
  CHECK_NOTHROW(pool.reset());
}
