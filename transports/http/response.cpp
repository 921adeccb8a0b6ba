#include "transports/http/response.hpp"

#include <cstdio>

namespace mcpd::transports::http {

namespace {

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_status_and_headers(std::string& out, const Response& response,
                               std::string_view correlation_id, const std::vector<Header>& extra) {
  char status[16];
  const int length = std::snprintf(status, sizeof status, "%u", response.status);
  out.append("HTTP/1.1 ")
      .append(status, static_cast<std::size_t>(length))
      .append(" ")
      .append(reason_phrase(response.status))
      .append("\r\n");
  if (!correlation_id.empty()) append_header(out, "X-Correlation-ID", correlation_id);
  for (const auto& [name, value] : extra) append_header(out, name, value);
  for (const auto& [name, value] : response.headers) append_header(out, name, value);
  if (!response.content_type.empty()) append_header(out, "Content-Type", response.content_type);
}

}  // namespace

const std::string* Response::find(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key == name) return &value;
  return nullptr;
}

std::string serialize(const Response& response, const std::vector<Header>& extra, bool keep_alive,
                      bool head) {
  std::string out;
  serialize_into(out, response, {}, extra, keep_alive, head);
  return out;
}

void serialize_into(std::string& out, const Response& response, std::string_view correlation_id,
                    const std::vector<Header>& extra, bool keep_alive, bool head) {
  out.reserve(out.size() + 256 + response.body.size());
  append_status_and_headers(out, response, correlation_id, extra);
  // 1xx, 204 and 304 never carry a body or a length.
  const bool bodiless = response.status < 200 || response.status == 204 || response.status == 304;
  if (!bodiless) {
    char length[24];
    const int n = std::snprintf(length, sizeof length, "%zu", response.body.size());
    append_header(out, "Content-Length", std::string_view(length, static_cast<std::size_t>(n)));
  }
  if (!keep_alive || response.close) append_header(out, "Connection", "close");
  out.append("\r\n");
  if (!head && !bodiless) out.append(response.body);
}

std::string serialize_stream_head(const Response& response, const std::vector<Header>& extra,
                                  bool chunked, bool keep_alive, std::string_view correlation_id) {
  std::string out;
  out.reserve(512);
  append_status_and_headers(out, response, correlation_id, extra);
  // no-transform and X-Accel-Buffering keep proxies (nginx) from buffering the stream.
  append_header(out, "Cache-Control", "no-cache, no-transform");
  append_header(out, "X-Accel-Buffering", "no");
  if (chunked) append_header(out, "Transfer-Encoding", "chunked");
  if (!chunked || !keep_alive) append_header(out, "Connection", "close");
  out.append("\r\n");
  return out;
}

std::string chunk(std::string_view data) {
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<std::size_t>(n) + data.size() + 2);
  out.append(size, static_cast<std::size_t>(n)).append(data).append("\r\n");
  return out;
}

std::string_view reason_phrase(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

// nlohmann's serializer writes through a shared_ptr to an output adapter, and dump() makes a new
// one, a new string and a new serializer (with an indentation buffer) for every document. These
// are made once per thread, the adapter pointed at the string to append to.
class AppendTo final : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  std::string* target = nullptr;
  void write_character(char c) override { target->push_back(c); }
  void write_characters(const char* s, std::size_t length) override { target->append(s, length); }
};

}  // namespace

void dump_into(std::string& out, const nlohmann::json& value) {
  thread_local const auto adapter = std::make_shared<AppendTo>();
  thread_local nlohmann::detail::serializer<nlohmann::json> serializer(
      adapter, ' ', nlohmann::json::error_handler_t::replace);
  adapter->target = &out;
  serializer.dump(value, false, false, 0);
  adapter->target = nullptr;
}

Response json_response(unsigned status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body.reserve(256);
  dump_into(response.body, body);
  return response;
}

Response json_response(unsigned status, const core::Reply& reply) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body.reserve(256);
  reply.write(response.body,
              [](std::string& out, const nlohmann::json& value) { dump_into(out, value); });
  return response;
}

Response jsonrpc_error(unsigned status, int code, std::string message) {
  return json_response(status,
                       nlohmann::json{{"jsonrpc", "2.0"},
                                      {"error", {{"code", code}, {"message", std::move(message)}}},
                                      {"id", nullptr}});
}

Response error_body(unsigned status, std::string error, std::string message) {
  return json_response(
      status, nlohmann::json{{"error", std::move(error)}, {"message", std::move(message)}});
}

Response unauthorized(bool credential_given, std::string_view description) {
  Response response = json_response(
      401, nlohmann::json{{"error", credential_given ? "invalid_token" : "unauthorized"},
                          {"error_description", std::string(description)}});
  std::string challenge = "Bearer realm=\"mcpd\"";
  if (credential_given) challenge += ", error=\"invalid_token\"";
  response.set("WWW-Authenticate", std::move(challenge));
  return response;
}

std::string sse_event(std::string_view id, std::string_view data, std::string_view event) {
  std::string out;
  out.reserve(data.size() + id.size() + 32);
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  out.append("data: ").append(data).append("\n\n");
  return out;
}

std::string sse_priming(std::string_view id, unsigned retry_ms) {
  std::string out;
  out.append("id: ").append(id).append("\nretry: ").append(std::to_string(retry_ms));
  out.append("\ndata: \n\n");
  return out;
}

}  // namespace mcpd::transports::http
