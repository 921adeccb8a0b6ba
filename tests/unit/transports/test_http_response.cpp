#include <catch2/catch.hpp>

#include "transports/http/event_stream.hpp"
#include "transports/http/response.hpp"

using namespace mcpd::transports::http;
using nlohmann::json;

TEST_CASE("responses serialize with length, extra headers and keep-alive", "[transports][http]") {
  Response response = json_response(200, json{{"status", "ok"}});
  response.set("Mcp-Session-Id", "abc");
  const std::string wire = serialize(response, {{"X-Correlation-ID", "cid"}}, true);
  CHECK(wire.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(wire.find("X-Correlation-ID: cid\r\n") != std::string::npos);
  CHECK(wire.find("Mcp-Session-Id: abc\r\n") != std::string::npos);
  CHECK(wire.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(wire.find("Content-Length: 15\r\n") != std::string::npos);
  CHECK(wire.find("Connection: close") == std::string::npos);
  CHECK(wire.substr(wire.size() - 19) == "\r\n\r\n{\"status\":\"ok\"}");

  const std::string closing = serialize(response, {}, false);
  CHECK(closing.find("Connection: close\r\n") != std::string::npos);

  const std::string head = serialize(response, {}, true, true);
  CHECK(head.find("Content-Length: 15\r\n") != std::string::npos);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("bodiless statuses carry no length", "[transports][http]") {
  Response accepted;
  accepted.status = 202;
  CHECK(serialize(accepted, {}, true).find("Content-Length: 0\r\n") != std::string::npos);
  Response no_content;
  no_content.status = 204;
  const std::string wire = serialize(no_content, {}, true);
  CHECK(wire.find("Content-Length") == std::string::npos);
  CHECK(wire.rfind("HTTP/1.1 204 No Content\r\n", 0) == 0);
}

TEST_CASE("stream heads are chunked on HTTP/1.1", "[transports][http]") {
  Response head;
  head.content_type = "text/event-stream";
  std::string wire = serialize_stream_head(head, {}, true, true);
  CHECK(wire.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(wire.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(wire.find("Cache-Control: no-cache") != std::string::npos);
  CHECK(wire.find("Content-Length") == std::string::npos);
  CHECK(wire.find("Connection: close") == std::string::npos);
  wire = serialize_stream_head(head, {}, false, true);
  CHECK(wire.find("Transfer-Encoding") == std::string::npos);
  CHECK(wire.find("Connection: close\r\n") != std::string::npos);

  CHECK(chunk("hello") == "5\r\nhello\r\n");
  CHECK(chunk(std::string(26, 'a')).rfind("1a\r\n", 0) == 0);
  CHECK(k_last_chunk == "0\r\n\r\n");
}

TEST_CASE("error bodies", "[transports][http]") {
  Response r = jsonrpc_error(404, -32001, "Session not found");
  CHECK(r.status == 404);
  const json body = json::parse(r.body);
  CHECK(body["jsonrpc"] == "2.0");
  CHECK(body["id"].is_null());
  CHECK(body["error"]["code"] == -32001);
  CHECK(body["error"]["message"] == "Session not found");

  r = error_body(429, "rate_limited", "slow down");
  CHECK(json::parse(r.body) == json{{"error", "rate_limited"}, {"message", "slow down"}});
}

TEST_CASE("401 challenges follow RFC 6750", "[transports][http]") {
  Response r = unauthorized(false, "a bearer token is required");
  CHECK(r.status == 401);
  REQUIRE(r.find("WWW-Authenticate"));
  CHECK(*r.find("WWW-Authenticate") == "Bearer realm=\"mcpd\"");
  r = unauthorized(true, "bad");
  CHECK(*r.find("WWW-Authenticate") == "Bearer realm=\"mcpd\", error=\"invalid_token\"");
  CHECK(json::parse(r.body)["error"] == "invalid_token");
}

TEST_CASE("SSE events", "[transports][http]") {
  CHECK(sse_event("3-1", R"({"a":1})") == "event: message\nid: 3-1\ndata: {\"a\":1}\n\n");
  CHECK(sse_event("", "x") == "event: message\ndata: x\n\n");
  CHECK(sse_event("", "messages?session_id=1", "endpoint") ==
        "event: endpoint\ndata: messages?session_id=1\n\n");
  CHECK(sse_priming("2-0", 1000) == "id: 2-0\nretry: 1000\ndata: \n\n");
  CHECK(k_sse_heartbeat.front() == ':');
}

TEST_CASE("event ids name their stream", "[transports][http]") {
  CHECK(EventStream::event_id(3, 14) == "3-14");
  auto parsed = EventStream::parse_event_id("3-14");
  REQUIRE(parsed);
  CHECK(parsed->first == 3);
  CHECK(parsed->second == 14);
  CHECK(EventStream::parse_event_id("0-0"));
  CHECK_FALSE(EventStream::parse_event_id("3"));
  CHECK_FALSE(EventStream::parse_event_id("-1"));
  CHECK_FALSE(EventStream::parse_event_id("a-1"));
  CHECK_FALSE(EventStream::parse_event_id("1-"));
  CHECK_FALSE(EventStream::parse_event_id("1-2-3"));
}
