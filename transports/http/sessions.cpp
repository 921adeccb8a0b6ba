#include "transports/http/sessions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mcpd::transports::http {

namespace {

std::string dump(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A response to request `id`: the last message of its stream.
bool is_response_to(const json& message, const json& id) {
  return message.is_object() && !message.contains("method") && message.value("id", json()) == id &&
         (message.contains("result") || message.contains("error"));
}

}  // namespace

// --- HttpSession ---

HttpSession::HttpSession(Key, Kind kind, std::string id, std::string owner,
                         const SessionOptions& options)
    : m_kind(kind),
      m_id(std::move(id)),
      m_owner(std::move(owner)),
      m_options(options),
      m_last_activity(Clock::now()) {}

std::shared_ptr<HttpSession> HttpSession::create(Kind kind, std::string id, std::string owner,
                                                 std::shared_ptr<const core::Identity> identity,
                                                 const SessionOptions& options) {
  auto session = std::make_shared<HttpSession>(Key(), kind, std::move(id), std::move(owner), options);
  // The sender holds the session weakly: the core session must not keep its owner alive.
  std::weak_ptr<HttpSession> weak = session;
  session->m_core.emplace(
      [weak](const json& message, const json& related_id) {
        if (auto self = weak.lock()) self->route(message, related_id);
      },
      std::move(identity));
  return session;
}

HttpSession::~HttpSession() {
  // The hub's sinks refer to the core session: no listen may outlive it.
  if (m_options.subscriptions) m_options.subscriptions->end_all(&*m_core);
}

void HttpSession::route(const json& message, const json& related_id) {
  if (m_kind == Kind::legacy) {
    std::shared_ptr<Exchange> legacy;
    {
      std::lock_guard lock(m_mutex);
      legacy = m_legacy;
    }
    if (legacy) legacy->send(sse_event({}, dump(message)));
    return;
  }
  std::shared_ptr<EventStream> target;
  {
    std::lock_guard lock(m_mutex);
    if (related_id.is_null()) {
      target = m_standalone;
    } else {
      target = stream_for_locked(related_id);
    }
  }
  if (!target) {
    spdlog::debug("no open stream for {}; dropping it",
                  message.value("method", std::string("a response")));
    return;
  }
  if (!is_response_to(message, related_id)) {
    target->push(message);
    return;
  }
  // A long-lived request (subscriptions/listen) answered later: its stream ends with it.
  target->finish(message);
  release(target);
}

std::shared_ptr<EventStream> HttpSession::open_request_stream(
    RequestIds ids, const std::shared_ptr<Exchange>& exchange,
    const std::string& protocol_version) {
  StreamOptions options;
  options.session_id = m_kind == Kind::stateless ? std::string() : m_id;
  options.protocol_version = protocol_version;
  options.resumable = m_kind == Kind::streamable;
  options.retry_ms = m_options.retry_ms;

  std::shared_ptr<EventStream> stream;
  {
    std::lock_guard lock(m_mutex);
    const std::uint64_t number = m_next_stream++;
    stream = std::make_shared<EventStream>(EventStream::Kind::request, number, options, this);
    stream->attach_initial(exchange);
    m_streams.push_back({stream, std::move(ids)});
    m_last_activity = Clock::now();
  }
  watch(stream, exchange);
  return stream;
}

// When the connection carrying `stream` drops, the stream either waits to be resumed or is
// abandoned at once.
void HttpSession::watch(const std::shared_ptr<EventStream>& stream,
                        const std::shared_ptr<Exchange>& exchange) {
  std::weak_ptr<HttpSession> weak_self = weak_from_this();
  std::weak_ptr<EventStream> weak_stream = stream;
  const Exchange* raw = exchange.get();
  exchange->on_closed([weak_self, weak_stream, raw] {
    auto self = weak_self.lock();
    auto target = weak_stream.lock();
    if (self && target && target->connection_lost(raw)) self->abandon(target);
  });
}

HttpSession::RequestStream* HttpSession::find_stream_locked(std::uint64_t number) {
  for (auto& entry : m_streams)
    if (entry.stream->number() == number) return &entry;
  return nullptr;
}

// The newest stream first: a client that reuses an id once its request ended means the new one.
std::shared_ptr<EventStream> HttpSession::stream_for_locked(const json& request_id) const {
  for (auto entry = m_streams.rbegin(); entry != m_streams.rend(); ++entry)
    for (const auto& id : entry->request_ids)
      if (id == request_id) return entry->stream;
  return nullptr;
}

void HttpSession::forget_locked(std::uint64_t number) {
  m_streams.erase(std::remove_if(m_streams.begin(), m_streams.end(),
                                 [number](const RequestStream& entry) {
                                   return entry.stream->number() == number;
                                 }),
                  m_streams.end());
}

void HttpSession::keep_open(const std::shared_ptr<EventStream>& stream) {
  stream->anchor(shared_from_this());
}

void HttpSession::release(const std::shared_ptr<EventStream>& stream) {
  if (!stream->completed()) return;  // waiting to be resumed
  std::lock_guard lock(m_mutex);
  forget_locked(stream->number());
}

// The client can no longer receive these answers: cancel the calls behind them.
void HttpSession::abandon(const std::shared_ptr<EventStream>& stream) {
  RequestIds ids;
  {
    std::lock_guard lock(m_mutex);
    if (auto* entry = find_stream_locked(stream->number())) ids = std::move(entry->request_ids);
    forget_locked(stream->number());
  }
  for (const auto& id : ids) {
    if (m_options.subscriptions && m_options.subscriptions->end(&*m_core, id)) {
      spdlog::debug("listen {} ended: the client went away", dump(id));
      continue;
    }
    spdlog::info("client went away; cancelling request {}", dump(id));
    m_core->cancel_request(id);
  }
}

bool HttpSession::open_standalone(const std::shared_ptr<Exchange>& exchange,
                                  const std::string& protocol_version) {
  std::shared_ptr<EventStream> stream;
  {
    std::lock_guard lock(m_mutex);
    if (m_ended) return false;
    if (m_standalone && m_standalone->attached()) return false;
    if (!m_standalone || m_standalone->completed()) {
      StreamOptions options;
      options.session_id = m_id;
      options.protocol_version = protocol_version;
      options.retry_ms = m_options.retry_ms;
      options.max_events = 256;
      options.max_bytes = 1024 * 1024;
      m_standalone = std::make_shared<EventStream>(EventStream::Kind::standalone, 0, options, this);
    }
    stream = m_standalone;
    m_last_activity = Clock::now();
  }
  if (!stream->open(exchange)) return false;
  watch(stream, exchange);
  return true;
}

EventStream::Resume HttpSession::resume(const std::shared_ptr<Exchange>& exchange,
                                        std::string_view last_event_id) {
  const auto parsed = EventStream::parse_event_id(last_event_id);
  if (!parsed) return EventStream::Resume::gone;
  std::shared_ptr<EventStream> stream;
  {
    std::lock_guard lock(m_mutex);
    if (m_ended) return EventStream::Resume::gone;
    if (parsed->first == 0) {
      stream = m_standalone;
    } else if (auto* entry = find_stream_locked(parsed->first)) {
      stream = entry->stream;
    }
    m_last_activity = Clock::now();
  }
  if (!stream) return EventStream::Resume::gone;
  const auto result = stream->resume(exchange, parsed->second);
  if (result == EventStream::Resume::resumed) watch(stream, exchange);
  return result;
}

void HttpSession::attach_legacy(const std::shared_ptr<Exchange>& exchange) {
  {
    std::lock_guard lock(m_mutex);
    m_legacy = exchange;
  }
  // A legacy session lives exactly as long as its event stream.
  std::weak_ptr<HttpSession> weak_self = weak_from_this();
  exchange->on_closed([weak_self] {
    if (auto self = weak_self.lock()) self->end();
  });
}

void HttpSession::end() {
  std::shared_ptr<EventStream> standalone;
  std::shared_ptr<Exchange> legacy;
  {
    std::lock_guard lock(m_mutex);
    if (m_ended) return;
    m_ended = true;
    standalone = std::move(m_standalone);
    legacy = std::move(m_legacy);
  }
  // Calls still running end with no reply (cancelled); their streams finish by themselves.
  m_core->cancel_all();
  if (standalone) standalone->close();
  if (legacy) legacy->end_stream();
}

bool HttpSession::ended() const {
  std::lock_guard lock(m_mutex);
  return m_ended;
}

void HttpSession::touch() {
  std::lock_guard lock(m_mutex);
  m_last_activity = Clock::now();
}

bool HttpSession::sweep(Clock::time_point now) {
  std::vector<std::shared_ptr<EventStream>> expired;
  bool idle = false;
  {
    std::lock_guard lock(m_mutex);
    // remove_if applies the test once per stream, so each expired stream is listed once.
    m_streams.erase(std::remove_if(m_streams.begin(), m_streams.end(),
                                   [&](const RequestStream& entry) {
                                     if (entry.stream->expired(now, m_options.resume_window)) {
                                       expired.push_back(entry.stream);
                                       return false;
                                     }
                                     return entry.stream->completed();
                                   }),
                    m_streams.end());
    const bool streaming =
        !m_streams.empty() || (m_standalone && m_standalone->attached()) || m_legacy != nullptr;
    idle = m_kind != Kind::legacy && !streaming && now - m_last_activity > m_options.idle_timeout;
  }
  for (const auto& stream : expired) {
    spdlog::info("no client resumed an interrupted stream within {} s",
                 m_options.resume_window.count());
    abandon(stream);
  }
  return idle && m_core->in_flight() == 0;
}

void HttpSession::close_idle_streams() {
  std::shared_ptr<EventStream> standalone;
  std::shared_ptr<Exchange> legacy;
  {
    std::lock_guard lock(m_mutex);
    standalone = m_standalone;
    if (m_core->in_flight() == 0) legacy = m_legacy;
  }
  if (standalone) standalone->close();
  if (legacy) legacy->end_stream(true);
}

// --- SessionRegistry ---

SessionRegistry::SessionRegistry(SessionOptions options, core::Metrics* metrics)
    : m_options(options), m_metrics(metrics) {}

SessionRegistry::~SessionRegistry() {
  end_all();
}

std::shared_ptr<HttpSession> SessionRegistry::create(
    HttpSession::Kind kind, std::string owner, std::shared_ptr<const core::Identity> identity) {
  std::shared_ptr<HttpSession> session;
  {
    std::lock_guard lock(m_mutex);
    if (m_sessions.size() >= m_options.max_sessions) return nullptr;
    std::string id = new_session_id();
    session = HttpSession::create(kind, id, std::move(owner), std::move(identity), m_options);
    m_sessions.emplace(std::move(id), session);
  }
  if (m_metrics) m_metrics->add_active_sessions(1);
  return session;
}

std::shared_ptr<HttpSession> SessionRegistry::find(const std::string& id,
                                                   const std::string& owner) {
  std::lock_guard lock(m_mutex);
  const auto it = m_sessions.find(id);
  if (it == m_sessions.end() || it->second->owner() != owner || it->second->ended()) return nullptr;
  return it->second;
}

void SessionRegistry::remove(const std::string& id) {
  std::shared_ptr<HttpSession> session;
  {
    std::lock_guard lock(m_mutex);
    const auto it = m_sessions.find(id);
    if (it == m_sessions.end()) return;
    session = std::move(it->second);
    m_sessions.erase(it);
  }
  session->end();
  if (m_metrics) m_metrics->add_active_sessions(-1);
}

void SessionRegistry::sweep(HttpSession::Clock::time_point now) {
  std::vector<std::shared_ptr<HttpSession>> sessions;
  {
    std::lock_guard lock(m_mutex);
    sessions.reserve(m_sessions.size());
    for (const auto& [id, session] : m_sessions) sessions.push_back(session);
  }
  for (const auto& session : sessions) {
    if (session->sweep(now) || session->ended()) {
      spdlog::debug("session {}… ended", session->id().substr(0, 8));
      remove(session->id());
    }
  }
}

void SessionRegistry::close_idle_streams() {
  std::vector<std::shared_ptr<HttpSession>> sessions;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, session] : m_sessions) sessions.push_back(session);
  }
  for (const auto& session : sessions) session->close_idle_streams();
}

void SessionRegistry::end_all() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, session] : m_sessions) ids.push_back(id);
  }
  for (const auto& id : ids) remove(id);
}

void SessionRegistry::track_ephemeral(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(m_mutex);
  if (m_ephemeral.size() >= 256)
    std::erase_if(m_ephemeral, [](const auto& weak) { return weak.expired(); });
  m_ephemeral.push_back(session);
}

void SessionRegistry::cancel_ephemeral() {
  std::vector<std::shared_ptr<HttpSession>> live;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& weak : m_ephemeral)
      if (auto session = weak.lock()) live.push_back(std::move(session));
    m_ephemeral.clear();
  }
  for (const auto& session : live) session->core().cancel_all();
}

std::size_t SessionRegistry::size() const {
  std::lock_guard lock(m_mutex);
  return m_sessions.size();
}

}  // namespace mcpd::transports::http
