#include "transports/http/event_stream.hpp"

#include <charconv>

namespace mcpd::transports::http {

namespace {

std::string dump(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

EventStream::EventStream(Kind kind, std::uint64_t number, StreamOptions options, const void* owner)
    : m_kind(kind), m_number(number), m_options(std::move(options)), m_owner(owner) {}

std::string EventStream::event_id(std::uint64_t stream, std::uint64_t seq) {
  return std::to_string(stream) + "-" + std::to_string(seq);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> EventStream::parse_event_id(
    std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t stream = 0, seq = 0;
  const char* begin = id.data();
  const char* mid = id.data() + dash;
  const char* end = id.data() + id.size();
  auto a = std::from_chars(begin, mid, stream);
  auto b = std::from_chars(mid + 1, end, seq);
  if (a.ec != std::errc() || a.ptr != mid || b.ec != std::errc() || b.ptr != end || dash == 0)
    return std::nullopt;
  return std::make_pair(stream, seq);
}

Response EventStream::stream_head() const {
  Response head;
  head.status = 200;
  head.content_type = "text/event-stream";
  if (!m_options.session_id.empty()) head.set("Mcp-Session-Id", m_options.session_id);
  return head;
}

void EventStream::attach_initial(const std::shared_ptr<Exchange>& exchange) {
  std::lock_guard lock(m_mutex);
  m_exchange = exchange;
}

bool EventStream::open(const std::shared_ptr<Exchange>& exchange) {
  std::lock_guard lock(m_mutex);
  if (m_exchange || m_completed) return false;
  m_exchange = exchange;
  m_detached_at.reset();
  switch_to_sse_locked();
  return true;
}

// Sends the head and, for clients that know resumption (2025-11-25), the priming event.
void EventStream::switch_to_sse_locked() {
  m_sse = true;
  if (!m_exchange->begin_stream(stream_head())) return;
  if (m_options.resumable && m_options.protocol_version >= "2025-11-25")
    m_exchange->send(sse_priming(event_id(m_number, 0), m_options.retry_ms));
}

std::string EventStream::next_event_locked(const json& message, std::uint64_t& seq) {
  seq = ++m_next_seq;
  return sse_event(m_options.resumable ? event_id(m_number, seq) : std::string(), dump(message));
}

// Keeps `text` for replay (bounded) and sends it when a connection carries the stream.
void EventStream::emit_locked(std::string text, std::uint64_t seq) {
  if (m_exchange) m_exchange->send(text);
  if (!m_options.resumable) return;
  m_event_bytes += text.size();
  auto& events = m_events ? *m_events : m_events.emplace();
  events.emplace_back(seq, std::move(text));
  while (events.size() > m_options.max_events ||
         (m_event_bytes > m_options.max_bytes && events.size() > 1)) {
    m_event_bytes -= events.front().second.size();
    events.pop_front();
  }
}

void EventStream::push(const json& message) {
  std::lock_guard lock(m_mutex);
  if (m_completed || m_finished) return;
  if (m_exchange && !m_sse) switch_to_sse_locked();
  if (!m_exchange && !m_sse) return;  // abandoned before it ever streamed
  std::uint64_t seq = 0;
  std::string text = next_event_locked(message, seq);
  emit_locked(std::move(text), seq);
}

void EventStream::finish(std::optional<json> reply, unsigned status) {
  std::lock_guard lock(m_mutex);
  if (m_completed || m_finished) return;
  m_finished = true;

  if (!m_sse) {
    // Nothing was streamed: one plain answer, if anyone is still listening.
    if (m_exchange) {
      Response response;
      if (reply) {
        response = json_response(status, *reply);
      } else {
        response.status = 202;
      }
      if (!m_options.session_id.empty()) response.set("Mcp-Session-Id", m_options.session_id);
      m_exchange->respond(std::move(response));
    }
    m_completed = true;
    m_exchange.reset();
    return;
  }

  // SSE: each response as its own event (a batch's replies too), then the end of the stream.
  if (reply) {
    if (reply->is_array()) {
      for (const auto& element : *reply) {
        std::uint64_t seq = 0;
        std::string text = next_event_locked(element, seq);
        emit_locked(std::move(text), seq);
      }
    } else {
      std::uint64_t seq = 0;
      std::string text = next_event_locked(*reply, seq);
      emit_locked(std::move(text), seq);
    }
  }
  if (m_exchange) {
    m_exchange->end_stream();
    m_exchange.reset();
    m_completed = true;
    m_events.reset();
    m_event_bytes = 0;
  }
  // Detached: the final events wait for a resumption (or the resume window to pass).
}

void EventStream::anchor(std::shared_ptr<const void> owner) {
  std::lock_guard lock(m_mutex);
  m_anchor = std::move(owner);
}

void EventStream::close() {
  std::lock_guard lock(m_mutex);
  m_completed = true;
  m_finished = true;
  if (m_exchange) {
    if (m_sse) {
      m_exchange->end_stream();
    } else {
      m_exchange->respond(jsonrpc_error(503, -32000, "session closed"));
    }
  }
  m_exchange.reset();
  m_events.reset();
  m_event_bytes = 0;
}

EventStream::Resume EventStream::resume(const std::shared_ptr<Exchange>& exchange,
                                        std::uint64_t after_seq) {
  std::lock_guard lock(m_mutex);
  if (m_completed || !m_options.resumable) return Resume::gone;
  if (m_exchange) return Resume::conflict;
  if (!exchange->begin_stream(stream_head())) return Resume::gone;
  m_exchange = exchange;
  m_sse = true;
  m_detached_at.reset();
  if (m_events)
    for (const auto& [seq, text] : *m_events)
      if (seq > after_seq) exchange->send(text);
  if (m_finished) {
    exchange->end_stream();
    m_exchange.reset();
    m_completed = true;
    m_events.reset();
    m_event_bytes = 0;
  }
  return Resume::resumed;
}

bool EventStream::connection_lost(const Exchange* exchange) {
  std::lock_guard lock(m_mutex);
  if (!m_exchange || m_exchange.get() != exchange) return false;
  m_exchange.reset();
  if (m_completed) return false;
  // A plain-JSON answer (or a stream without ids) has nothing to resume from.
  if (m_kind == Kind::request && (!m_sse || !m_options.resumable)) {
    m_completed = true;
    return true;
  }
  m_detached_at = Clock::now();
  return false;
}

bool EventStream::expired(Clock::time_point now, Clock::duration window) const {
  std::lock_guard lock(m_mutex);
  return !m_completed && !m_exchange && m_detached_at && now - *m_detached_at > window;
}

bool EventStream::completed() const {
  std::lock_guard lock(m_mutex);
  return m_completed;
}

bool EventStream::attached() const {
  std::lock_guard lock(m_mutex);
  return m_exchange != nullptr;
}

}  // namespace mcpd::transports::http
