#pragma once
// One TCP connection: HTTP/1.1 keep-alive framing, limits and deadlines, and one writer with a
// bounded queue, all on the connection's thread: the one that runs its io_context (the shape of
// Beast's advanced_server, with an io_context per thread in place of strands).
//
// A request is read whole (header limit, body limit -> 413, header/idle/body deadlines), handed
// to the RequestHandler together with an Exchange, and the connection then waits for the
// Exchange to complete. Meanwhile it keeps one read pending so that a client that goes away is
// noticed at once (the Exchange's on_closed runs: calls in flight get cancelled). An Exchange
// completes with one response, or with a stream (text/event-stream, chunked) that ends later.

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "transports/http/response.hpp"

namespace mcpd::transports::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
// Each connection's executor: its io_context's own, as a concrete type (a type-erased
// any_io_executor is copied, and allocated, by every async operation and handler post). Every
// io_context that carries connections is run by exactly one thread (IoContextPool), which makes
// it an implicit strand: a connection's handlers never run concurrently, and what other threads
// hand a connection is posted to its executor. An explicit strand on top cost a mutex, a queue
// and an extra scheduler round trip (with a handler allocation) for every completion.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;

// Called on the connection's thread with the status of every response (metrics).
using StatusObserver = std::function<void(unsigned status)>;

struct ConnectionLimits {
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 4 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{10000};  // first byte to end of headers
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive: waiting for the next request
  std::chrono::milliseconds body_timeout{30000};    // end of headers to end of body
  std::chrono::milliseconds write_timeout{30000};   // each write must progress within this
  std::chrono::milliseconds heartbeat{15000};       // SSE comment line on open streams
  std::size_t max_queued_bytes = 8 * 1024 * 1024;   // a client that reads slower is dropped
};

// Where a connection arrived.
struct ListenerInfo {
  std::string address;  // "127.0.0.1:8001"
  std::uint16_t port = 0;
  bool loopback = false;
};

// A request's header fields live in an arena inside its IncomingRequest: Beast allocates each
// field on its own otherwise (five or more allocations per request). Typical headers fit in the
// arena; more spill over to the heap, and the arena goes with the request.
// (std::pmr::polymorphic_allocator is not assignable, which Beast requires.)
template <class T>
struct ArenaAllocator {
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  std::pmr::memory_resource* resource = std::pmr::new_delete_resource();

  ArenaAllocator() noexcept = default;
  explicit ArenaAllocator(std::pmr::memory_resource* arena) noexcept : resource(arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : resource(other.resource) {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(resource->allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    resource->deallocate(p, n * sizeof(T), alignof(T));
  }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return resource == other.resource;
  }
};
using FieldAllocator = ArenaAllocator<char>;
using RequestFields = boost::beast::http::basic_fields<FieldAllocator>;
using RequestMessage =
    boost::beast::http::request<boost::beast::http::string_body, RequestFields>;
using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::string_body, FieldAllocator>;

struct IncomingRequest {
  IncomingRequest()
      : message(std::piecewise_construct, std::make_tuple(), std::make_tuple(fields())) {}
  IncomingRequest(const IncomingRequest&) = delete;
  IncomingRequest& operator=(const IncomingRequest&) = delete;
  // For a parser whose message will be moved into `message`: the same arena, so the move
  // takes the fields as they are.
  FieldAllocator fields() { return FieldAllocator(&m_arena); }

 private:
  alignas(std::max_align_t) std::array<std::byte, 1024> m_arena_buffer;
  std::pmr::monotonic_buffer_resource m_arena{m_arena_buffer.data(), m_arena_buffer.size()};

 public:
  RequestMessage message;
  std::string peer;    // the socket's remote address
  std::string client;  // the client's address (peer, or X-Forwarded-For behind a local proxy)
  std::shared_ptr<const ListenerInfo> listener;
  // Admitted past the connection cap: only the probes are served (router.cpp), then it closes.
  bool over_capacity = false;

  std::optional<std::string_view> header(std::string_view name) const;
  bool head() const;  // a HEAD request: no body in the answer
};

class Connection;

// The way back to the client for one request. Thread-safe: every method may be called from any
// thread; the work happens on the connection's thread. Calls after completion are ignored.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::weak_ptr<Connection> connection, Executor executor, std::uint64_t serial,
           bool keep_alive, bool http10, bool head);

  // Headers added to whatever this exchange answers (CORS).
  void add_header(std::string name, std::string value);
  // X-Correlation-ID, first among them. Set once, before the exchange is shared with any other
  // thread; correlation_id() then reads it without a lock (the request's log scopes borrow it).
  void set_correlation_id(std::string id) { m_correlation_id = std::move(id); }
  const std::string& correlation_id() const { return m_correlation_id; }

  // A complete response.
  void respond(Response response);
  // The head of a stream (status, Content-Type: text/event-stream, ...). Returns false when the
  // connection is already gone.
  bool begin_stream(Response head);
  // Raw stream bytes (SSE events); framed as chunks on HTTP/1.1.
  void send(std::string data);
  // The end of the stream. `close` also closes the connection.
  void end_stream(bool close = false);
  // Drops the connection.
  void abort();

  // Runs once, on the connection's thread, when the connection closes before this exchange
  // completed (or while its stream is open).
  void on_closed(std::function<void()> callback);
  bool closed() const;
  bool streaming() const;
  const Executor& executor() const { return m_executor; }

  std::uint64_t serial() const { return m_serial; }

 private:
  friend class Connection;
  template <class F>
  void post(F&& f);
  void notify_closed();

  std::weak_ptr<Connection> m_connection;
  Executor m_executor;
  const std::uint64_t m_serial;
  const bool m_keep_alive;
  const bool m_http10;
  const bool m_head;

  std::string m_correlation_id;

  mutable std::mutex m_mutex;
  std::vector<Header> m_headers;
  std::function<void()> m_on_closed;
  bool m_closed = false;
  bool m_finished = false;   // respond() or end_stream() was called
  bool m_streaming = false;  // begin_stream() was called
};

using RequestHandler =
    std::function<void(std::shared_ptr<Exchange>, std::shared_ptr<IncomingRequest>)>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket socket, std::shared_ptr<const ListenerInfo> listener,
             const ConnectionLimits& limits, RequestHandler handler, StatusObserver observer,
             bool over_capacity = false);
  ~Connection();

  void start();
  // Server shutdown: close now when idle, else after the current exchange completes.
  void shut_down();

  static std::size_t live_count();

 private:
  friend class Exchange;
  enum class State { waiting, reading, exchanging, draining, closed };

  void wait_for_request(std::chrono::milliseconds deadline);
  void start_watch_read();
  void on_bytes(boost::system::error_code ec, std::size_t n);
  void read_header();
  void on_header(boost::system::error_code ec);
  void read_body();
  void on_request(boost::system::error_code ec);
  void reject(unsigned status, std::string message);

  // Exchange operations, on the connection's thread.
  void exchange_respond(std::uint64_t serial, Response response);
  void exchange_begin(std::uint64_t serial, Response head);
  void exchange_send(std::uint64_t serial, std::string data);
  void exchange_end(std::uint64_t serial, bool close);
  void exchange_abort(std::uint64_t serial);
  bool current(std::uint64_t serial) const;
  void complete_exchange(bool close);

  void enqueue(std::string data);
  void do_write();
  void write_some();
  void on_write(boost::system::error_code ec, std::size_t n);
  void after_exchange();
  // The read and write deadlines. Every request moves them several times; cancelling a pending
  // timer wait to move one costs a completion through the scheduler and a new wait (with its
  // handler allocation) each time. So a wait stays pending while its deadline moves later, and
  // checks the deadline when it fires: passed, the connection times out; later, it waits on;
  // cleared, it ends. A wait expires at most `horizon` after it was armed, and the horizon is
  // the shortest timeout a request's cycle sets (header, body, idle), so within that cycle a
  // deadline never moves before the pending wait's expiry. Only a deadline set earlier than
  // the pending wait (the short linger after a graceful close) re-arms the timer; the
  // superseded wait's completion sees a newer `generation` and does nothing.
  struct Deadline {
    Deadline(const Executor& executor, std::chrono::milliseconds horizon_, bool is_write_)
        : timer(executor), horizon(horizon_), is_write(is_write_) {}
    Timer timer;
    const std::chrono::milliseconds horizon;
    const bool is_write;  // which deadline this is, for on_deadline
    Timer::time_point at = Timer::time_point::max();  // max: no deadline
    Timer::time_point expiry{};                       // when the pending wait fires
    std::uint64_t generation = 0;                     // the pending wait's number
    bool waiting = false;                             // a wait on `timer` is pending
  };
  void set_deadline(Deadline& deadline, std::chrono::milliseconds after);
  static void clear_deadline(Deadline& deadline) { deadline.at = Timer::time_point::max(); }
  void wait_for_deadline(Deadline& deadline);
  void on_deadline(const Deadline& deadline);
  void arm_heartbeat();
  void close_gracefully();
  void close(std::string_view why);

  Socket m_socket;
  std::shared_ptr<const ListenerInfo> m_listener;
  const ConnectionLimits m_limits;
  RequestHandler m_handler;
  StatusObserver m_observer;
  std::string m_peer;
  const bool m_over_capacity;

  State m_state = State::waiting;
  boost::beast::flat_buffer m_buffer;
  // What m_parser reads into (its fields live in this request's arena): declared first, so it
  // outlives the parser.
  std::shared_ptr<IncomingRequest> m_next;
  std::optional<RequestParser> m_parser;
  bool m_read_pending = false;
  bool m_shutting_down = false;
  // While an answer is being produced, a pending read or write keeps the connection alive.
  // With a pipelined request already buffered no read is pending (the connection reads no
  // further until this answer is out), so it holds itself until the exchange ends or closes.
  std::shared_ptr<Connection> m_hold;

  Deadline m_read_deadline;   // header, body, keep-alive idle, linger after a close
  Deadline m_write_deadline;  // each write must progress
  Timer m_heartbeat_timer;

  std::shared_ptr<Exchange> m_exchange;
  std::uint64_t m_serial = 0;
  bool m_exchange_done = false;  // the current exchange's last bytes are queued
  bool m_close_after = false;    // close once the queue drains
  bool m_stream_chunked = false;

  std::deque<std::string> m_queue;
  std::deque<std::string> m_in_flight;  // strings being written (kept alive for the write)
  std::vector<net::const_buffer> m_buffers;  // the gathered write's buffers, reused
  // A written response's buffer, kept (when small) for the next one: a keep-alive client's
  // answers are serialized without an allocation each. Dropped when a stream begins.
  std::string m_spare;
  std::size_t m_written = 0;            // bytes of m_in_flight already written
  std::size_t m_queued_bytes = 0;
  bool m_writing = false;
};

}  // namespace mcpd::transports::http
