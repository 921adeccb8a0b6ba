// Shutdown waits for the last connection through ConnectionSet::when_empty, an event raised
// when the last connection object is destroyed (no polling). Real sockets on an ephemeral
// loopback port; the test waits on futures, never on sleeps.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "transports/http/listener.hpp"

namespace net = boost::asio;
using namespace mcpd::transports::http;
using namespace std::chrono_literals;

namespace {

struct Loopback {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::shared_ptr<const ListenerInfo> info = std::make_shared<ListenerInfo>();
  ConnectionLimits limits;

  // A connected pair: the client's socket, and the server side adopted by `set`.
  tcp::socket connect(ConnectionSet& set) {
    tcp::socket client(ioc);
    client.connect(acceptor.local_endpoint());
    Socket server(ioc.get_executor());
    acceptor.accept(server);
    auto connection = set.adopt(std::make_unique<Connection>(
        std::move(server), info, limits, [](auto, auto) {}, nullptr));
    connection->start();
    return client;
  }
};

bool ready(std::future<void>& future) {
  // A generous bound for a busy machine; the event itself is immediate.
  return future.wait_for(60s) == std::future_status::ready;
}

}  // namespace

TEST_CASE("when_empty runs at once when there is no connection", "[transports][http]") {
  ConnectionSet set;
  int calls = 0;
  set.when_empty([&] { ++calls; });
  CHECK(calls == 1);
  CHECK(set.size() == 0);
}

TEST_CASE("when_empty fires when the last connection is gone", "[transports][http]") {
  Loopback loopback;
  ConnectionSet set;
  auto first = loopback.connect(set);
  auto second = loopback.connect(set);
  CHECK(set.size() == 2);

  std::promise<void> empty;
  int calls = 0;
  set.when_empty([&] {
    ++calls;
    empty.set_value();
  });
  CHECK(calls == 0);
  std::thread runner([&] { loopback.ioc.run(); });

  first.close();  // the client leaves: that connection closes, one remains
  std::future<void> fired = empty.get_future();
  CHECK(fired.wait_for(100ms) == std::future_status::timeout);
  set.shut_down_all();  // the idle one is closed by the server
  CHECK(ready(fired));
  runner.join();  // nothing is left for the io_context to do
  CHECK(set.size() == 0);
  CHECK(calls == 1);
}

TEST_CASE("a cancelled when_empty never runs", "[transports][http]") {
  Loopback loopback;
  ConnectionSet set;
  auto client = loopback.connect(set);
  bool called = false;
  set.when_empty([&] { called = true; });
  set.when_empty(nullptr);
  std::thread runner([&] { loopback.ioc.run(); });
  client.close();
  runner.join();  // returns once the connection has closed and been destroyed
  CHECK(set.size() == 0);
  CHECK_FALSE(called);
}
