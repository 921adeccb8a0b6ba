// Streamable HTTP (POST/GET/DELETE /mcp) and the legacy HTTP+SSE transport through the real
// request handling on a loopback port: what each kind of message is answered with (status,
// content type, plain JSON or an SSE stream), sessions as the client sees them (404 for one the
// server does not know, DELETE, the GET stream), the one batch rule, and calls cancelled when
// their client goes away.

#include <catch2/catch.hpp>

#include "http_test_server.hpp"

using namespace http_test;
using nlohmann::json;

namespace {

json body_json(const http_test::Reply& reply) {
  return json::parse(reply.body());
}

std::string content_type(const http_test::Reply& reply) {
  return std::string(reply[bhttp::field::content_type]);
}

json call(const json& id, const std::string& tool, json arguments = json::object(),
          std::optional<json> progress_token = {}) {
  json params{{"name", tool}, {"arguments", std::move(arguments)}};
  if (progress_token) params["_meta"] = {{"progressToken", *progress_token}};
  return rpc(id, "tools/call", std::move(params));
}

}  // namespace

TEST_CASE("streamable: initialize opens a session named by Mcp-Session-Id",
          "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto reply = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                     rpc(1, "initialize",
                                         {{"protocolVersion", "2025-11-25"},
                                          {"capabilities", json::object()},
                                          {"clientInfo", {{"name", "t"}, {"version", "1"}}}})
                                         .dump());
  REQUIRE(reply.result_int() == 200);
  CHECK(content_type(reply) == "application/json");
  const std::string id(reply["Mcp-Session-Id"]);
  CHECK(id.size() == 64);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(body_json(reply)["result"]["protocolVersion"] == "2025-11-25");
  CHECK(server.sessions().size() == 1);
  CHECK(server.sessions().find(id, ""));

  SECTION("a second initialize on the session is refused") {
    const auto again = client.exchange(bhttp::verb::post, "/mcp", post_headers(id),
                                       rpc(2, "initialize",
                                           {{"protocolVersion", "2025-11-25"},
                                            {"capabilities", json::object()},
                                            {"clientInfo", {{"name", "t"}, {"version", "1"}}}})
                                           .dump());
    CHECK(again.result_int() == 400);
    CHECK(server.sessions().size() == 1);
  }
  SECTION("a failed initialize leaves no session behind") {
    const auto failed = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                        rpc(3, "initialize", {{"capabilities", 1}}).dump());
    CHECK(failed.result_int() == 200);  // a JSON-RPC error, answered normally
    CHECK(body_json(failed)["error"]["code"] == -32602);
    CHECK(failed["Mcp-Session-Id"].empty());
    CHECK(server.sessions().size() == 1);
  }
}

TEST_CASE("streamable: a quick request is answered with plain JSON",
          "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  const auto reply = client.exchange(bhttp::verb::post, "/mcp", post_headers(session),
                                     call(7, "greet", {{"name", "Ada"}}).dump());
  REQUIRE(reply.result_int() == 200);
  CHECK(content_type(reply) == "application/json");
  CHECK(reply["Mcp-Session-Id"] == session);
  const json answer = body_json(reply);
  CHECK(answer["id"] == 7);
  CHECK(answer["result"]["content"][0]["text"] == "Hello Ada x3 [] {other}");
  CHECK(server.calls->wait_for("greet") == false);
}

TEST_CASE("streamable: a call that sends progress is answered as an SSE stream",
          "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  client.send(Client::request(bhttp::verb::post, "/mcp", post_headers(session),
                              call("c1", "chatty", json::object(), "tok").dump()));
  const auto& head = client.read_head();
  REQUIRE(head.result_int() == 200);
  CHECK(head[bhttp::field::content_type] == "text/event-stream");
  CHECK(head["Mcp-Session-Id"] == session);
  REQUIRE(client.read_body_to_end());

  // A priming event (2025-11-25: an id, a retry hint, empty data), then the messages.
  CHECK(client.body().find("retry: ") != std::string::npos);
  const auto messages = sse_messages(client.body());
  REQUIRE(messages.size() >= 2);
  CHECK(messages.front()["method"] == "notifications/progress");
  CHECK(messages.front()["params"]["progressToken"] == "tok");
  CHECK(messages.front()["params"]["progress"] == 1);
  const json& last = messages.back();
  CHECK(last["id"] == "c1");
  CHECK(last["result"]["content"][0]["text"] == "done");
  // The stream ended with the result: the connection carries on.
  const auto ping =
      client.exchange(bhttp::verb::post, "/mcp", post_headers(session), rpc(8, "ping").dump());
  CHECK(ping.result_int() == 200);
}

TEST_CASE("streamable: notifications and responses get 202 with no body",
          "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  const auto notified =
      client.exchange(bhttp::verb::post, "/mcp", post_headers(session),
                      notification("notifications/cancelled", {{"requestId", 99}}).dump());
  CHECK(notified.result_int() == 202);
  CHECK(notified.body().empty());
  const auto answered =
      client.exchange(bhttp::verb::post, "/mcp", post_headers(session),
                      json{{"jsonrpc", "2.0"}, {"id", "srv-1"}, {"result", json::object()}}.dump());
  CHECK(answered.result_int() == 202);
  CHECK(answered.body().empty());
}

TEST_CASE("streamable: requests need a known session", "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);

  SECTION("no Mcp-Session-Id: 400") {
    const auto reply =
        client.exchange(bhttp::verb::post, "/mcp", post_headers(), rpc(1, "ping").dump());
    CHECK(reply.result_int() == 400);
  }
  SECTION("an id the server does not know: 404 with -32001") {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp",
                                       post_headers(std::string(64, 'a')), rpc(1, "ping").dump());
    CHECK(reply.result_int() == 404);
    CHECK(body_json(reply)["error"]["code"] == -32001);
    const auto get = client.exchange(
        bhttp::verb::get, "/mcp",
        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", std::string(64, 'a')}});
    CHECK(get.result_int() == 404);
  }
  SECTION("DELETE ends the session; it is then unknown") {
    const auto deleted =
        client.exchange(bhttp::verb::delete_, "/mcp", {{"Mcp-Session-Id", session}});
    CHECK(deleted.result_int() == 200);
    CHECK(server.sessions().size() == 0);
    const auto after =
        client.exchange(bhttp::verb::post, "/mcp", post_headers(session), rpc(2, "ping").dump());
    CHECK(after.result_int() == 404);
    const auto again = client.exchange(bhttp::verb::delete_, "/mcp", {{"Mcp-Session-Id", session}});
    CHECK(again.result_int() == 404);
  }
}

TEST_CASE("streamable: media types are negotiated", "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  SECTION("the client must accept JSON and SSE: 406") {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp",
                                       {{"Accept", "application/json"},
                                        {"Content-Type", "application/json"},
                                        {"Mcp-Session-Id", session}},
                                       rpc(1, "ping").dump());
    CHECK(reply.result_int() == 406);
  }
  SECTION("the body must be JSON: 415") {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp",
                                       {{"Accept", "application/json, text/event-stream"},
                                        {"Content-Type", "text/plain"},
                                        {"Mcp-Session-Id", session}},
                                       rpc(1, "ping").dump());
    CHECK(reply.result_int() == 415);
  }
  SECTION("unparsable JSON: 400 with -32700") {
    const auto reply =
        client.exchange(bhttp::verb::post, "/mcp", post_headers(session), "{\"jsonrpc\":");
    CHECK(reply.result_int() == 400);
    CHECK(body_json(reply)["error"]["code"] == -32700);
  }
  SECTION("an unsupported MCP-Protocol-Version: 400") {
    const auto reply = client.exchange(bhttp::verb::post, "/mcp",
                                       post_headers(session, "1999-01-01"), rpc(1, "ping").dump());
    CHECK(reply.result_int() == 400);
  }
}

TEST_CASE("streamable: the session's GET stream", "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  const Headers get_headers{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}};

  auto stream = server.client();
  stream.send(Client::request(bhttp::verb::get, "/mcp", get_headers));
  const auto& head = stream.read_head();
  REQUIRE(head.result_int() == 200);
  CHECK(head[bhttp::field::content_type] == "text/event-stream");
  CHECK(head["Mcp-Session-Id"] == session);
  CHECK(stream.read_body_until(
      [](const std::string& body) { return body.find("retry: ") != std::string::npos; }));

  // One per session.
  const auto second = client.exchange(bhttp::verb::get, "/mcp", get_headers);
  CHECK(second.result_int() == 409);
  // Without text/event-stream in Accept: 406.
  const auto json_only = client.exchange(
      bhttp::verb::get, "/mcp", {{"Accept", "application/json"}, {"Mcp-Session-Id", session}});
  CHECK(json_only.result_int() == 406);

  // Unrelated messages go on it.
  auto live = server.sessions().find(session, "");
  REQUIRE(live);
  live->core().notify("notifications/tools/list_changed", json::object());
  CHECK(stream.read_body_until([](const std::string& body) {
    return body.find("notifications/tools/list_changed") != std::string::npos;
  }));

  // DELETE ends the stream.
  CHECK(client.exchange(bhttp::verb::delete_, "/mcp", {{"Mcp-Session-Id", session}}).result_int() ==
        200);
  CHECK(stream.read_body_to_end());
}

TEST_CASE("streamable: a call's messages go on its own stream, unrelated ones on the GET stream",
          "[transports][http][streamable]") {
  TestServer server;
  auto client = server.client();
  const auto session = server.open_session(client);
  auto stream = server.client();
  stream.send(Client::request(bhttp::verb::get, "/mcp",
                              {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}}));
  REQUIRE(stream.read_head().result_int() == 200);

  const auto reply = client.exchange(bhttp::verb::post, "/mcp", post_headers(session),
                                     call(1, "chatty", json::object(), "tok").dump());
  REQUIRE(reply.result_int() == 200);
  CHECK(sse_messages(reply.body()).front()["method"] == "notifications/progress");

  // Anything routed to the GET stream so far precedes this marker.
  server.sessions()
      .find(session, "")
      ->core()
      .notify("notifications/resources/list_changed", json::object());
  REQUIRE(stream.read_body_until([](const std::string& body) {
    return body.find("notifications/resources/list_changed") != std::string::npos;
  }));
  CHECK(stream.body().find("notifications/progress") == std::string::npos);
  CHECK(stream.body().find("\"id\":1") == std::string::npos);
}

TEST_CASE("streamable: DELETE cancels the session's calls and answers their requests",
          "[transports][http][streamable]") {
  TestServer server;
  auto control = server.client();
  const auto session = server.open_session(control);
  auto caller = server.client();
  caller.send(Client::request(bhttp::verb::post, "/mcp", post_headers(session),
                              call(1, "slow_progress", json::object(), "p").dump()));
  const auto& head = caller.read_head();
  REQUIRE(head.result_int() == 200);
  REQUIRE(caller.read_body_until([](const std::string& body) {
    return body.find("notifications/progress") != std::string::npos;
  }));

  CHECK(
      control.exchange(bhttp::verb::delete_, "/mcp", {{"Mcp-Session-Id", session}}).result_int() ==
      200);
  CHECK(server.calls->wait_for("slow_progress") == true);
  // The open stream ends (the cancelled call has no result to send).
  CHECK(caller.read_body_to_end());
  CHECK(caller.body().find("\"result\"") == std::string::npos);
}

TEST_CASE("streamable: a new session beyond max_sessions gets 503",
          "[transports][http][streamable]") {
  TestServer server({.max_sessions = 2});
  auto client = server.client();
  const auto first = server.open_session(client);
  server.open_session(client);
  const auto refused = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                       rpc(1, "initialize",
                                           {{"protocolVersion", "2025-11-25"},
                                            {"capabilities", json::object()},
                                            {"clientInfo", {{"name", "t"}, {"version", "1"}}}})
                                           .dump());
  CHECK(refused.result_int() == 503);
  CHECK(refused["Mcp-Session-Id"].empty());
  // Deleting one makes room.
  CHECK(client.exchange(bhttp::verb::delete_, "/mcp", {{"Mcp-Session-Id", first}}).result_int() ==
        200);
  server.open_session(client);
  CHECK(server.sessions().size() == 2);
}

TEST_CASE("streamable: a plain JSON call whose client goes away is cancelled",
          "[transports][http][streamable]") {
  TestServer server;
  auto setup = server.client();
  const auto session = server.open_session(setup);
  auto client = server.client();
  client.send(
      Client::request(bhttp::verb::post, "/mcp", post_headers(session), call(1, "sleeper").dump()));
  client.close();
  // The sleeper runs for 60 s unless cancelled; cancelled calls end as errors.
  CHECK(server.calls->wait_for("sleeper") == true);
  // The session itself lives on.
  CHECK(setup.exchange(bhttp::verb::post, "/mcp", post_headers(session), rpc(2, "ping").dump())
            .result_int() == 200);
}

TEST_CASE("streamable: an SSE call whose client goes away is resumable, then cancelled",
          "[transports][http][streamable]") {
  TestServer server({.resume_window = std::chrono::seconds(30)});
  const auto idle = [&server] {
    auto future = server.when_no_connections();
    return future.wait_for(k_wait) == std::future_status::ready;
  };
  std::string session;
  {
    auto client = server.client();
    session = server.open_session(client);
    client.send(Client::request(bhttp::verb::post, "/mcp", post_headers(session),
                                call(1, "slow_progress", json::object(), "p").dump()));
    REQUIRE(client.read_head().result_int() == 200);
    REQUIRE(client.read_body_until(
        [](const std::string& body) { return body.find("id: 1-1\n") != std::string::npos; }));
    client.close();
  }
  REQUIRE(idle());
  // Within the resume window nothing is cancelled...
  server.sessions().sweep();
  CHECK(server.calls->count("slow_progress") == 0);

  {
    // ...and a client may pick the stream up where it left it.
    auto client = server.client();
    client.send(Client::request(
        bhttp::verb::get, "/mcp",
        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}, {"Last-Event-ID", "1-1"}}));
    const auto& head = client.read_head();
    CHECK(head.result_int() == 200);
    CHECK(head[bhttp::field::content_type] == "text/event-stream");
    // An event id it never sent cannot be resumed.
    auto other = server.client();
    const auto unknown = other.exchange(
        bhttp::verb::get, "/mcp",
        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}, {"Last-Event-ID", "9-1"}});
    CHECK(unknown.result_int() == 400);
    // Only one connection carries a stream.
    const auto conflict = other.exchange(
        bhttp::verb::get, "/mcp",
        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}, {"Last-Event-ID", "1-1"}});
    CHECK(conflict.result_int() == 409);
    other.close();
    client.close();
  }
  REQUIRE(idle());
  CHECK(server.calls->count("slow_progress") == 0);
  // Past the window, the call is abandoned and cancelled.
  server.sessions().sweep(std::chrono::steady_clock::now() + std::chrono::seconds(31));
  CHECK(server.calls->wait_for("slow_progress") == true);
}

TEST_CASE("batches: served for 2025-03-26 sessions, refused with 400 otherwise",
          "[transports][http][streamable][batch]") {
  TestServer server;
  auto client = server.client();
  const json batch = json::array({rpc(1, "ping"), rpc(2, "tools/list")});

  SECTION("a 2025-03-26 session") {
    const auto session = server.open_session(client, "2025-03-26");
    const auto reply =
        client.exchange(bhttp::verb::post, "/mcp", post_headers(session), batch.dump());
    REQUIRE(reply.result_int() == 200);
    const json answer = body_json(reply);
    REQUIRE(answer.is_array());
    CHECK(answer.size() == 2);
  }
  SECTION("a 2025-11-25 session, whatever the header says") {
    const auto session = server.open_session(client, "2025-11-25");
    for (const auto& version :
         {std::optional<std::string>(), std::optional<std::string>("2025-03-26")}) {
      const auto reply =
          client.exchange(bhttp::verb::post, "/mcp", post_headers(session, version), batch.dump());
      CHECK(reply.result_int() == 400);
      CHECK(body_json(reply)["error"]["code"] == -32600);
      CHECK(body_json(reply)["error"]["message"] ==
            "invalid request: batches are not supported by protocol version 2025-11-25");
    }
    // A batch of notifications too: refused, not silently accepted.
    const auto notes = client.exchange(
        bhttp::verb::post, "/mcp", post_headers(session),
        json::array({notification("notifications/cancelled", {{"requestId", 1}})}).dump());
    CHECK(notes.result_int() == 400);
  }
  SECTION("initialize in a batch") {
    const auto reply =
        client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                        json::array({rpc(1, "initialize",
                                         {{"protocolVersion", "2025-03-26"},
                                          {"capabilities", json::object()},
                                          {"clientInfo", {{"name", "t"}, {"version", "1"}}}})})
                            .dump());
    CHECK(reply.result_int() == 400);
    CHECK(body_json(reply)["error"]["code"] == -32600);
    CHECK(reply["Mcp-Session-Id"].empty());
    CHECK(server.sessions().size() == 0);
  }
}

TEST_CASE("batches: a batch holding a 2026-07-28 request is refused with 400",
          "[transports][http][streamable][batch][modern]") {
  TestServer server;
  auto client = server.client();
  const json modern = rpc(1, "tools/list",
                          {{"_meta",
                            {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                             {"io.modelcontextprotocol/clientCapabilities", json::object()}}}});
  const auto reply = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                     json::array({rpc(2, "ping"), modern}).dump());
  CHECK(reply.result_int() == 400);
  CHECK(body_json(reply)["error"]["code"] == -32600);
  CHECK(body_json(reply)["error"]["message"] ==
        "invalid request: batches are not supported by protocol version 2026-07-28");
  CHECK(server.sessions().size() == 0);
}

TEST_CASE("batches: stateless requests follow their MCP-Protocol-Version",
          "[transports][http][streamable][batch]") {
  TestServer server({.stateless = true});
  auto client = server.client();
  const json batch = json::array({rpc(1, "ping"), rpc(2, "ping")});
  const auto old =
      client.exchange(bhttp::verb::post, "/mcp", post_headers({}, "2025-03-26"), batch.dump());
  CHECK(old.result_int() == 200);
  CHECK(body_json(old).size() == 2);
  const auto absent = client.exchange(bhttp::verb::post, "/mcp", post_headers(), batch.dump());
  CHECK(absent.result_int() == 200);  // 2025-03-26 is assumed
  const auto current =
      client.exchange(bhttp::verb::post, "/mcp", post_headers({}, "2025-06-18"), batch.dump());
  CHECK(current.result_int() == 400);
  CHECK(body_json(current)["error"]["code"] == -32600);
}

TEST_CASE("stateless: quick requests are answered at once, calls that stream get a stream",
          "[transports][http][streamable]") {
  // Quick requests (a static tool, ping, a batch) are answered where they arrive without a
  // session object; a call that may block still gets a stream, and its progress on it.
  TestServer server({.stateless = true});
  auto client = server.client();
  const auto quick = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                     call(1, "greet", {{"name", "Ada"}}).dump());
  REQUIRE(quick.result_int() == 200);
  CHECK(content_type(quick) == "application/json");
  CHECK(quick["Mcp-Session-Id"].empty());
  CHECK(body_json(quick)["result"]["content"][0]["text"] == "Hello Ada x3 [] {other}");

  const auto refused = client.exchange(bhttp::verb::post, "/mcp", post_headers(),
                                       call(2, "greet", {{"name", 5}}).dump());
  REQUIRE(refused.result_int() == 200);
  const json refusal = body_json(refused);
  CHECK(refusal["id"] == 2);
  CHECK((refusal.contains("error") || refusal["result"].value("isError", false)));

  const json batch = json::array({rpc(3, "ping"), 7, rpc(4, "tools/list")});
  const auto batched =
      client.exchange(bhttp::verb::post, "/mcp", post_headers({}, "2025-03-26"), batch.dump());
  REQUIRE(batched.result_int() == 200);
  const json answers = body_json(batched);
  REQUIRE(answers.size() == 3);
  CHECK(answers[0]["id"] == 3);
  CHECK(answers[1]["error"]["code"] == -32600);
  CHECK(answers[2]["result"]["tools"].is_array());

  client.send(Client::request(bhttp::verb::post, "/mcp", post_headers(),
                              call("c1", "chatty", json::object(), "tok").dump()));
  const auto& head = client.read_head();
  REQUIRE(head.result_int() == 200);
  CHECK(head[bhttp::field::content_type] == "text/event-stream");
  REQUIRE(client.read_body_to_end());
  const auto messages = sse_messages(client.body());
  REQUIRE(messages.size() >= 2);
  CHECK(messages.front()["method"] == "notifications/progress");
  CHECK(messages.back()["result"]["content"][0]["text"] == "done");
}

TEST_CASE("legacy SSE: the endpoint event, 202 for posts, answers on the stream",
          "[transports][http][legacy]") {
  TestServer server;
  auto stream = server.client();
  stream.send(Client::request(bhttp::verb::get, "/sse", {{"Accept", "text/event-stream"}}));
  REQUIRE(stream.read_head().result_int() == 200);
  REQUIRE(stream.read_body_until([](const std::string& body) {
    return body.find("event: endpoint") != std::string::npos &&
           body.find("\n\n", body.find("event: endpoint")) != std::string::npos;
  }));
  const std::string& events = stream.body();
  const auto at = events.find("data: ", events.find("event: endpoint")) + 6;
  const std::string endpoint = "/" + events.substr(at, events.find('\n', at) - at);
  CHECK(endpoint.rfind("/messages?session_id=", 0) == 0);
  CHECK(server.sessions().size() == 1);

  auto client = server.client();
  const Headers json_type{{"Content-Type", "application/json"}};
  const auto posted = client.exchange(bhttp::verb::post, endpoint, json_type,
                                      rpc(1, "initialize",
                                          {{"protocolVersion", "2024-11-05"},
                                           {"capabilities", json::object()},
                                           {"clientInfo", {{"name", "t"}, {"version", "1"}}}})
                                          .dump());
  CHECK(posted.result_int() == 202);
  CHECK(stream.read_body_until([](const std::string& body) {
    return body.find("\"protocolVersion\":\"2024-11-05\"") != std::string::npos;
  }));
  // A batch in a 2024-11-05 session: each reply its own event.
  CHECK(client
            .exchange(bhttp::verb::post, endpoint, json_type,
                      json::array({rpc("a", "ping"), rpc("b", "ping")}).dump())
            .result_int() == 202);
  CHECK(stream.read_body_until([](const std::string& body) {
    return body.find("\"id\":\"a\"") != std::string::npos &&
           body.find("\"id\":\"b\"") != std::string::npos;
  }));
  // An unknown session: 404.
  CHECK(client
            .exchange(bhttp::verb::post, "/messages?session_id=" + std::string(64, 'b'), json_type,
                      rpc(2, "ping").dump())
            .result_int() == 404);
  // The session lives as long as its stream.
  stream.close();
  client.close();
  auto closed = server.when_no_connections();
  REQUIRE(closed.wait_for(k_wait) == std::future_status::ready);
  auto late = server.client();
  CHECK(late.exchange(bhttp::verb::post, endpoint, json_type, rpc(3, "ping").dump()).result_int() ==
        404);
  server.sessions().sweep();
  CHECK(server.sessions().size() == 0);
}
