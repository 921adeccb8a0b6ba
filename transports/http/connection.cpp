#include "transports/http/connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <vector>

namespace mcpd::transports::http {

namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

std::atomic<std::size_t> g_live_connections{0};

// A lingering close reads (and discards) what the client still sends for this long, so that a
// response sent before the request body was read (413) reaches the client instead of a reset.
constexpr std::chrono::milliseconds k_linger{2000};
// During an exchange the connection reads ahead only to notice a disconnect; a client that
// pipelines more than this meanwhile is cut off.
constexpr std::size_t k_max_read_ahead = 64 * 1024;
// The largest written buffer a connection keeps for its next response.
constexpr std::size_t k_max_spare = 4096;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// The client closed the connection, before or in the middle of a request: nobody is left to
// answer (a 400 would only be counted as an error).
bool client_left(error_code ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == net::error::eof || ec == net::error::connection_reset;
}

}  // namespace

// --- IncomingRequest ---

std::optional<std::string_view> IncomingRequest::header(std::string_view name) const {
  const auto it = message.find(boost::beast::string_view(name.data(), name.size()));
  if (it == message.end()) return std::nullopt;
  const auto value = it->value();
  return std::string_view(value.data(), value.size());
}

bool IncomingRequest::head() const {
  return message.method() == http::verb::head;
}

// --- Exchange ---

Exchange::Exchange(std::weak_ptr<Connection> connection, Executor executor, std::uint64_t serial,
                   bool keep_alive, bool http10, bool head)
    : m_connection(std::move(connection)),
      m_executor(std::move(executor)),
      m_serial(serial),
      m_keep_alive(keep_alive),
      m_http10(http10),
      m_head(head) {}

template <class F>
void Exchange::post(F&& f) {
  auto connection = m_connection.lock();
  if (!connection) return;
  net::post(m_executor, [connection = std::move(connection), f = std::forward<F>(f)]() mutable {
    f(*connection);
  });
}

void Exchange::add_header(std::string name, std::string value) {
  std::lock_guard lock(m_mutex);
  m_headers.emplace_back(std::move(name), std::move(value));
}

void Exchange::respond(Response response) {
  {
    std::lock_guard lock(m_mutex);
    if (m_finished || m_streaming) return;
    m_finished = true;
  }
  post([serial = m_serial, response = std::move(response)](Connection& c) mutable {
    c.exchange_respond(serial, std::move(response));
  });
}

bool Exchange::begin_stream(Response head) {
  {
    std::lock_guard lock(m_mutex);
    if (m_finished || m_streaming || m_closed) return false;
    m_streaming = true;
  }
  post([serial = m_serial, head = std::move(head)](Connection& c) mutable {
    c.exchange_begin(serial, std::move(head));
  });
  return true;
}

void Exchange::send(std::string data) {
  {
    std::lock_guard lock(m_mutex);
    if (m_finished || !m_streaming || m_closed) return;
  }
  post([serial = m_serial, data = std::move(data)](Connection& c) mutable {
    c.exchange_send(serial, std::move(data));
  });
}

void Exchange::end_stream(bool close) {
  {
    std::lock_guard lock(m_mutex);
    if (m_finished || !m_streaming) return;
    m_finished = true;
  }
  post([serial = m_serial, close](Connection& c) { c.exchange_end(serial, close); });
}

void Exchange::abort() {
  post([serial = m_serial](Connection& c) { c.exchange_abort(serial); });
}

void Exchange::on_closed(std::function<void()> callback) {
  bool already = false;
  {
    std::lock_guard lock(m_mutex);
    already = m_closed;
    if (!already) m_on_closed = std::move(callback);
  }
  if (already && callback) net::post(m_executor, std::move(callback));
}

bool Exchange::closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

bool Exchange::streaming() const {
  std::lock_guard lock(m_mutex);
  return m_streaming;
}

void Exchange::notify_closed() {
  std::function<void()> callback;
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    m_closed = true;
    callback = std::move(m_on_closed);
  }
  if (callback) callback();
}

// --- Connection ---

Connection::Connection(Socket socket, std::shared_ptr<const ListenerInfo> listener,
                       const ConnectionLimits& limits, RequestHandler handler,
                       StatusObserver observer, bool over_capacity)
    : m_socket(std::move(socket)),
      m_listener(std::move(listener)),
      m_limits(limits),
      m_handler(std::move(handler)),
      m_observer(std::move(observer)),
      m_over_capacity(over_capacity),
      // The read horizon leaves out the 2 s linger after a graceful close (which re-arms the
      // wait once), so a keep-alive connection waiting for its next request wakes once per
      // header timeout (10 s) and waits on.
      m_read_deadline(m_socket.get_executor(),
                      std::max(std::chrono::milliseconds(1),
                               std::min({limits.header_timeout, limits.idle_timeout,
                                         limits.body_timeout})),
                      /*is_write=*/false),
      m_write_deadline(m_socket.get_executor(),
                       std::max(std::chrono::milliseconds(1), limits.write_timeout),
                       /*is_write=*/true),
      m_heartbeat_timer(m_socket.get_executor()) {
  ++g_live_connections;
}

Connection::~Connection() {
  --g_live_connections;
}

std::size_t Connection::live_count() {
  return g_live_connections.load();
}

void Connection::start() {
  net::post(m_socket.get_executor(), [self = shared_from_this()] {
    error_code ec;
    self->m_socket.set_option(tcp::no_delay(true), ec);
    const auto peer = self->m_socket.remote_endpoint(ec);
    self->m_peer = ec ? std::string("unknown") : peer.address().to_string();
    self->wait_for_request(self->m_limits.header_timeout);
  });
}

void Connection::shut_down() {
  net::post(m_socket.get_executor(), [self = shared_from_this()] {
    self->m_shutting_down = true;
    if (self->m_state == State::waiting) self->close("server shutting down");
  });
}

// Waits for the first byte of the next request within `deadline` (header timeout for a new
// connection, idle timeout between keep-alive requests), then reads its header.
void Connection::wait_for_request(std::chrono::milliseconds deadline) {
  m_state = State::waiting;
  if (m_buffer.size() > 0 && !m_read_pending) {
    read_header();
    return;
  }
  set_deadline(m_read_deadline, deadline);
  if (!m_read_pending) start_watch_read();
}

void Connection::start_watch_read() {
  m_read_pending = true;
  m_socket.async_read_some(
      m_buffer.prepare(8192),
      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_bytes(ec, n); });
}

void Connection::on_bytes(error_code ec, std::size_t n) {
  m_read_pending = false;
  if (m_state == State::closed) return;
  if (m_state == State::draining) {
    if (ec) {
      close("closed after response");
      return;
    }
    m_buffer.consume(m_buffer.size());
    start_watch_read();
    return;
  }
  if (ec) {
    close(ec == net::error::eof ? "client closed the connection" : "read failed");
    return;
  }
  m_buffer.commit(n);
  if (m_state == State::exchanging) {
    // The client sent more while we answer: a pipelined request, parsed once this one is done.
    // (Until then a disconnect goes unnoticed; reading on would need an unbounded buffer.)
    if (m_buffer.size() > k_max_read_ahead) return close("too much pipelined data");
    m_hold = shared_from_this();  // no read pending from here on
    return;
  }
  read_header();
}

void Connection::read_header() {
  m_state = State::reading;
  m_parser.reset();  // before the arena its fields may live in
  m_next = std::make_shared<IncomingRequest>();
  m_parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(m_next->fields()));
  m_parser->header_limit(static_cast<std::uint32_t>(m_limits.header_limit));
  m_parser->body_limit(m_limits.body_limit);
  set_deadline(m_read_deadline, m_limits.header_timeout);
  m_read_pending = true;
  http::async_read_header(m_socket, m_buffer, *m_parser,
                          [self = shared_from_this()](error_code ec, std::size_t) {
                            self->m_read_pending = false;
                            self->on_header(ec);
                          });
}

void Connection::on_header(error_code ec) {
  if (m_state == State::closed) return;
  if (ec == http::error::header_limit) return reject(431, "request header too large");
  if (ec == http::error::body_limit) return reject(413, "request body too large");
  if (client_left(ec)) return close("client closed the connection");
  if (ec == net::error::operation_aborted) return close("header timeout");
  if (ec) return reject(400, "malformed HTTP request");

  const auto& request = m_parser->get();
  const auto expect = request.find(http::field::expect);
  if (expect != request.end()) {
    if (!iequals(std::string_view(expect->value().data(), expect->value().size()), "100-continue"))
      return reject(417, "unsupported Expect header");
    if (!m_parser->is_done()) enqueue("HTTP/1.1 100 Continue\r\n\r\n");
  }
  read_body();
}

void Connection::read_body() {
  set_deadline(m_read_deadline, m_limits.body_timeout);
  m_read_pending = true;
  http::async_read(m_socket, m_buffer, *m_parser,
                   [self = shared_from_this()](error_code ec, std::size_t) {
                     self->m_read_pending = false;
                     self->on_request(ec);
                   });
}

void Connection::on_request(error_code ec) {
  if (m_state == State::closed) return;
  clear_deadline(m_read_deadline);
  if (ec == http::error::body_limit) return reject(413, "request body too large");
  if (client_left(ec)) return close("client closed the connection");
  if (ec == net::error::operation_aborted) return close("body timeout");
  if (ec) return reject(400, "malformed HTTP request");

  auto request = std::move(m_next);
  request->message = m_parser->release();
  m_parser.reset();
  request->peer = m_peer;
  request->listener = m_listener;
  request->over_capacity = m_over_capacity;

  const bool keep_alive = request->message.keep_alive() && !m_shutting_down && !m_over_capacity;
  m_exchange =
      std::make_shared<Exchange>(weak_from_this(), m_socket.get_executor(), ++m_serial, keep_alive,
                                 request->message.version() == 10, request->head());
  m_state = State::exchanging;
  m_exchange_done = false;
  m_close_after = false;
  // Keep one read pending to notice a client that goes away mid-call; with a pipelined request
  // already buffered, hold on instead (m_hold).
  if (!m_read_pending) {
    if (m_buffer.size() == 0)
      start_watch_read();
    else
      m_hold = shared_from_this();
  }
  m_handler(m_exchange, std::move(request));
}

// Answers a request we could not read (too large, malformed) and closes.
void Connection::reject(unsigned status, std::string message) {
  spdlog::debug("http: {} from {}: {}", status, m_peer, message);
  m_parser.reset();
  m_next.reset();
  clear_deadline(m_read_deadline);
  m_state = State::exchanging;
  m_exchange.reset();
  Response response =
      error_body(status, status == 413 ? "payload_too_large" : "bad_request", std::move(message));
  response.close = true;
  if (m_observer) m_observer(status);
  enqueue(serialize(response, {}, false));
  m_exchange_done = true;
  m_close_after = true;
}

bool Connection::current(std::uint64_t serial) const {
  return m_state != State::closed && m_exchange && m_exchange->serial() == serial &&
         !m_exchange_done;
}

void Connection::exchange_respond(std::uint64_t serial, Response response) {
  if (!current(serial)) return;
  const bool keep_alive = m_exchange->m_keep_alive && !response.close && !m_shutting_down;
  std::vector<Header> headers;
  {
    // The exchange answers once: its headers are taken, not copied.
    std::lock_guard lock(m_exchange->m_mutex);
    headers = std::move(m_exchange->m_headers);
  }
  // HTTP/1.0 closes by default: say so when we keep the connection.
  if (m_exchange->m_http10 && keep_alive) headers.emplace_back("Connection", "keep-alive");
  if (m_observer) m_observer(response.status);
  std::string wire = std::move(m_spare);
  wire.clear();
  serialize_into(wire, response, m_exchange->m_correlation_id, headers, keep_alive,
                 m_exchange->m_head);
  enqueue(std::move(wire));
  complete_exchange(!keep_alive);
}

void Connection::exchange_begin(std::uint64_t serial, Response head) {
  if (!current(serial)) return;
  std::vector<Header> headers;
  {
    std::lock_guard lock(m_exchange->m_mutex);
    headers = std::move(m_exchange->m_headers);
  }
  // A stream may stay open for hours: it keeps no spare buffer.
  m_spare = std::string();
  m_stream_chunked = !m_exchange->m_http10;
  if (m_observer) m_observer(head.status);
  enqueue(serialize_stream_head(head, headers, m_stream_chunked,
                                m_exchange->m_keep_alive && !m_shutting_down,
                                m_exchange->m_correlation_id));
  arm_heartbeat();
}

void Connection::exchange_send(std::uint64_t serial, std::string data) {
  if (!current(serial) || data.empty()) return;
  enqueue(m_stream_chunked ? chunk(data) : std::move(data));
}

void Connection::exchange_end(std::uint64_t serial, bool close_after) {
  if (!current(serial)) return;
  if (m_stream_chunked) enqueue(std::string(k_last_chunk));
  complete_exchange(close_after || !m_stream_chunked || !m_exchange->m_keep_alive);
}

void Connection::exchange_abort(std::uint64_t serial) {
  if (m_state == State::closed || !m_exchange || m_exchange->serial() != serial) return;
  close("exchange aborted");
}

void Connection::complete_exchange(bool close_after) {
  m_exchange_done = true;
  m_close_after = m_close_after || close_after;
  m_heartbeat_timer.cancel();
  if (!m_writing && m_queue.empty()) after_exchange();
}

void Connection::after_exchange() {
  const auto hold = std::move(m_hold);  // released when this returns: the next step holds on
  if (m_state == State::closed) return;
  m_exchange.reset();
  m_exchange_done = false;
  if (m_close_after || m_shutting_down) {
    close_gracefully();
    return;
  }
  wait_for_request(m_limits.idle_timeout);
}

void Connection::enqueue(std::string data) {
  if (m_state == State::closed) return;
  // One large answer always goes out; a client that lets a stream's events pile up is dropped.
  if (m_queued_bytes > m_limits.max_queued_bytes) {
    close("client reads too slowly");
    return;
  }
  m_queued_bytes += data.size();
  m_queue.push_back(std::move(data));
  if (!m_writing) do_write();
}

// Writes everything queued as one gathered write, one write in flight at a time. The write
// deadline applies to each step (write_some), so a large answer to a slow but reading client
// goes out however long it takes, while a client that stops reading is dropped.
void Connection::do_write() {
  m_writing = true;
  while (!m_queue.empty() && m_in_flight.size() < 64) {
    m_in_flight.push_back(std::move(m_queue.front()));
    m_queue.pop_front();
  }
  m_written = 0;
  write_some();
}

void Connection::write_some() {
  m_buffers.clear();
  std::size_t skip = m_written;
  for (const auto& data : m_in_flight) {
    if (skip >= data.size()) {
      skip -= data.size();
      continue;
    }
    m_buffers.emplace_back(net::buffer(data) + skip);
    skip = 0;
  }
  set_deadline(m_write_deadline, m_limits.write_timeout);
  m_socket.async_write_some(m_buffers, [self = shared_from_this()](error_code ec, std::size_t n) {
    if (!ec && self->m_state != State::closed) {
      self->m_written += n;
      std::size_t total = 0;
      for (const auto& data : self->m_in_flight) total += data.size();
      if (self->m_written < total) {
        self->write_some();
        return;
      }
    }
    self->on_write(ec, n);
  });
}

void Connection::on_write(error_code ec, std::size_t) {
  m_writing = false;
  clear_deadline(m_write_deadline);
  for (auto& data : m_in_flight) {
    m_queued_bytes -= data.size();
    if (!m_exchange_done || data.capacity() > k_max_spare || data.capacity() <= m_spare.capacity())
      continue;
    m_spare = std::move(data);
  }
  m_in_flight.clear();
  if (m_state == State::closed) return;
  if (ec) {
    close("write failed");
    return;
  }
  if (!m_queue.empty()) {
    do_write();
    return;
  }
  if (m_exchange_done) after_exchange();
}

void Connection::set_deadline(Deadline& deadline, std::chrono::milliseconds after) {
  deadline.at = Timer::clock_type::now() + after;
  // A deadline earlier than the pending wait's expiry cannot wait for it: re-arm (the old
  // wait's completion, aborted or already queued, belongs to an older generation).
  if (!deadline.waiting || deadline.at < deadline.expiry) wait_for_deadline(deadline);
}

void Connection::wait_for_deadline(Deadline& deadline) {
  deadline.waiting = true;
  const auto generation = ++deadline.generation;
  deadline.expiry = std::min(deadline.at, Timer::clock_type::now() + deadline.horizon);
  deadline.timer.expires_at(deadline.expiry);
  // `deadline` is a member of the connection the handler holds.
  deadline.timer.async_wait([self = shared_from_this(), &deadline, generation](error_code ec) {
    if (generation != deadline.generation) return;  // superseded by a re-arm
    deadline.waiting = false;
    if (ec || self->m_state == State::closed || deadline.at == Timer::time_point::max()) return;
    if (Timer::clock_type::now() < deadline.at) {
      self->wait_for_deadline(deadline);
      return;
    }
    clear_deadline(deadline);
    self->on_deadline(deadline);
  });
}

void Connection::on_deadline(const Deadline& deadline) {
  if (deadline.is_write) {
    close("write timeout");
    return;
  }
  if (m_state == State::waiting || m_state == State::reading || m_state == State::draining)
    close("read timeout");
}

void Connection::arm_heartbeat() {
  m_heartbeat_timer.expires_after(m_limits.heartbeat);
  m_heartbeat_timer.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->m_state != State::exchanging || !self->m_exchange || self->m_exchange_done)
      return;
    self->enqueue(self->m_stream_chunked ? chunk(k_sse_heartbeat) : std::string(k_sse_heartbeat));
    self->arm_heartbeat();
  });
}

void Connection::close_gracefully() {
  error_code ec;
  m_socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    close("shutdown failed");
    return;
  }
  m_state = State::draining;
  set_deadline(m_read_deadline, k_linger);
  m_buffer.consume(m_buffer.size());
  if (!m_read_pending) start_watch_read();
}

void Connection::close(std::string_view why) {
  const auto hold = std::move(m_hold);
  if (m_state == State::closed) return;
  m_state = State::closed;
  spdlog::trace("http: connection from {} closed: {}", m_peer, why);
  m_read_deadline.timer.cancel();
  m_write_deadline.timer.cancel();
  m_heartbeat_timer.cancel();
  error_code ec;
  m_socket.shutdown(tcp::socket::shutdown_both, ec);
  m_socket.close(ec);
  if (m_exchange && !m_exchange_done) {
    auto exchange = std::move(m_exchange);
    exchange->notify_closed();
  }
  m_exchange.reset();
  m_queue.clear();
}

}  // namespace mcpd::transports::http
