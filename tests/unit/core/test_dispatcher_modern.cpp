// The 2026-07-28 era: per-request _meta, server/discover, result fields, per-request logging,
// and its coexistence with legacy sessions on the same dispatcher.

#include "core/protocol/request_meta.hpp"
#include "tests/unit/core/dispatcher_fixture.hpp"

namespace {

json modern_meta(json extra = json::object()) {
  json meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
            {"io.modelcontextprotocol/clientCapabilities", json::object()},
            {"io.modelcontextprotocol/clientInfo", {{"name", "test"}, {"version", "2"}}}};
  for (const auto& [key, value] : extra.items()) meta[key] = value;
  return meta;
}

json modern(json params = json::object(), json extra_meta = json::object()) {
  params["_meta"] = modern_meta(std::move(extra_meta));
  return params;
}

}  // namespace

TEST_CASE("a 2026-07-28 request is served without initialize", "[core][dispatcher][modern]") {
  Fixture f;
  const json list = f.result(1, "tools/list", modern());
  CHECK(list["resultType"] == "complete");
  CHECK(list["ttlMs"] == DispatcherOptions{}.cache_ttl_ms);
  CHECK(list["cacheScope"] == "public");
  CHECK(list["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcpd");
  CHECK_FALSE(list["tools"].empty());

  const json call =
      f.result(2, "tools/call", modern({{"name", "greet"}, {"arguments", {{"name", "Ada"}}}}));
  CHECK(call["resultType"] == "complete");
  CHECK_FALSE(call.contains("ttlMs"));  // tools/call is not cacheable
  CHECK_THAT(first_text(call), Catch::Contains("Hello Ada"));

  // The session itself stays uninitialized: a legacy request is still refused.
  CHECK(f.error(3, "tools/list")["code"] == -32600);
}

TEST_CASE("an unsupported version gets -32022 listing the supported ones",
          "[core][dispatcher][modern]") {
  Fixture f;
  json params = modern();
  params["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
  const json error = f.error(1, "tools/list", params);
  CHECK(error["code"] == -32022);
  CHECK(error["data"]["requested"] == "2099-01-01");
  CHECK(error["data"]["supported"][0] == "2026-07-28");
  CHECK(error["data"]["supported"] == json::array({"2026-07-28"}));  // what discover lists

  // A legacy revision named per request is not served per request either.
  params["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2025-11-25";
  CHECK(f.error(2, "tools/list", params)["code"] == -32022);
}

TEST_CASE("missing or malformed required _meta fields get -32602", "[core][dispatcher][modern]") {
  Fixture f;
  json params = modern();
  params["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
  json error = f.error(1, "tools/list", params);
  CHECK(error["code"] == -32602);
  CHECK_THAT(error["message"].get<std::string>(), Catch::Contains("clientCapabilities"));

  params = modern();
  params["_meta"]["io.modelcontextprotocol/protocolVersion"] = 20260728;
  CHECK(f.error(2, "tools/list", params)["code"] == -32602);
  CHECK(f.error(3, "tools/list",
                modern({}, {{"io.modelcontextprotocol/logLevel", "loud"}}))["code"] == -32602);
  CHECK(f.error(4, "tools/list",
                modern({}, {{"io.modelcontextprotocol/clientInfo", "me"}}))["code"] == -32602);
}

TEST_CASE("server/discover names versions, capabilities and instructions",
          "[core][dispatcher][modern]") {
  DispatcherOptions options;
  options.info.instructions = "Use the greet tool.";
  Fixture f(options);
  {
    const json discover = f.result(1, "server/discover", modern());
    CHECK(discover["resultType"] == "complete");
    CHECK(discover["supportedVersions"] == json::array({"2026-07-28"}));
    CHECK(discover["capabilities"]["tools"].is_object());
    CHECK(discover["capabilities"]["extensions"] == json::object());
    CHECK(discover["instructions"] == "Use the greet tool.");
    CHECK(discover["_meta"]["io.modelcontextprotocol/serverInfo"]["version"] == MCPD_VERSION);
    CHECK(discover.contains("ttlMs"));
  }
  // Without the per-request fields it is malformed.
  CHECK(f.error(2, "server/discover")["code"] == -32602);
  // initialize keeps offering the legacy revisions only.
  CHECK(f.initialize("2026-07-28")["protocolVersion"] == "2025-11-25");
}

TEST_CASE("legacy-only methods are unknown to 2026-07-28 requests", "[core][dispatcher][modern]") {
  Fixture f;
  for (const char* method :
       {"ping", "logging/setLevel", "initialize", "resources/subscribe", "resources/unsubscribe"})
    CHECK(f.error(1, method, modern({{"level", "info"}, {"uri", "file:///readme"}}))["code"] ==
          -32601);
}

TEST_CASE("an unknown resource is -32602 for 2026-07-28, -32002 before",
          "[core][dispatcher][modern]") {
  Fixture f;
  const json error = f.error(1, "resources/read", modern({{"uri", "file:///nope"}}));
  CHECK(error["code"] == -32602);
  CHECK(error["data"]["uri"] == "file:///nope");
  f.initialize();
  CHECK(f.error(2, "resources/read", {{"uri", "file:///nope"}})["code"] == -32002);
}

TEST_CASE("cacheable results carry ttlMs and cacheScope", "[core][dispatcher][modern]") {
  DispatcherOptions options;
  options.cache_ttl_ms = 1234;
  Fixture f(options);
  for (const char* method : {"prompts/list", "resources/list", "resources/templates/list"}) {
    const json result = f.result(1, method, modern());
    CHECK(result["ttlMs"] == 1234);
    CHECK(result["cacheScope"] == "public");
  }
  const json read = f.result(2, "resources/read", modern({{"uri", "static://handled"}}));
  CHECK(read["ttlMs"] == 0);  // computed by a handler on every read

  // An authenticated caller's answers are its own.
  Identity identity;
  identity.user = "ada@example.com";
  identity.token_name = "laptop";
  f.session.set_identity(identity);
  CHECK(f.result(3, "tools/list", modern())["cacheScope"] == "private");
}

TEST_CASE("2026-07-28 requests get log messages only at the level they ask for",
          "[core][dispatcher][modern]") {
  Fixture f;
  f.result(1, "tools/call", modern({{"name", "chatty"}}));
  CHECK(f.outbox.with_method("notifications/message").empty());

  f.result(2, "tools/call",
           modern({{"name", "chatty"}}, {{"io.modelcontextprotocol/logLevel", "error"}}));
  auto messages = f.outbox.with_method("notifications/message");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["params"]["data"] == "bad");

  f.result(3, "tools/call",
           modern({{"name", "chatty"}},
                  {{"io.modelcontextprotocol/logLevel", "debug"}, {"progressToken", "p"}}));
  CHECK(f.outbox.with_method("notifications/message").size() == 3);
  CHECK(f.outbox.with_method("notifications/progress").size() == 1);
}

TEST_CASE("every message sent during a request names that request", "[core][dispatcher][modern]") {
  Fixture f;
  std::mutex mutex;
  std::vector<std::pair<json, json>> sent;
  Session session([&](const json& message, const json& related) {
    std::lock_guard lock(mutex);
    sent.emplace_back(message, related);
  });
  const auto reply = f.dispatcher->handle(
      make_request("call-7", "tools/call",
                   modern({{"name", "chatty"}},
                          {{"io.modelcontextprotocol/logLevel", "debug"}, {"progressToken", 5}})),
      session, "cid");
  REQUIRE(reply);
  std::lock_guard lock(mutex);
  REQUIRE(sent.size() == 3);  // one progress, two log messages
  for (const auto& [message, related] : sent) CHECK(related == "call-7");
}

TEST_CASE("a 2026-07-28 request may not be part of a batch", "[core][dispatcher][modern]") {
  Fixture f;
  const json refusal = f.reply(json::array({make_request(1, "tools/list", modern())}));
  REQUIRE(refusal.is_object());
  CHECK(refusal["id"].is_null());
  CHECK(refusal["error"]["code"] == -32600);
  CHECK(refusal["error"]["message"] ==
        "invalid request: batches are not supported by protocol version 2026-07-28");
  // Not even within a session that may batch: the whole batch is refused, nothing runs.
  f.initialize("2025-03-26");
  const json mixed =
      f.reply(json::array({make_request(2, "ping"), make_request(3, "tools/list", modern())}));
  REQUIRE(mixed.is_object());
  CHECK(mixed["error"]["code"] == -32600);
}

TEST_CASE("a W3C traceparent becomes the request's correlation id", "[core][dispatcher][modern]") {
  Fixture f;
  const std::string parent = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01";
  const json call =
      f.result(1, "tools/call", modern({{"name", "correlation"}}, {{"traceparent", parent}}));
  CHECK(first_text(call) == "0af7651916cd43dd8448eb211c80319c");
  // A malformed one is ignored: the transport's id stays.
  auto reply = f.handle(
      make_request(2, "tools/call", modern({{"name", "correlation"}}, {{"traceparent", "00-zz"}})),
      "given-id");
  REQUIRE(reply);
  CHECK(first_text((*reply)["result"]) == "given-id");
}

TEST_CASE("legacy sessions and 2026-07-28 requests share one dispatcher",
          "[core][dispatcher][modern]") {
  Fixture f;
  f.initialize("2025-06-18");
  CHECK(f.result(1, "logging/setLevel", {{"level", "emergency"}}) == json::object());
  // The modern request brings its own log level; the session's does not apply to it.
  f.result(2, "tools/call",
           modern({{"name", "chatty"}}, {{"io.modelcontextprotocol/logLevel", "debug"}}));
  CHECK(f.outbox.with_method("notifications/message").size() == 2);
  // The legacy request keeps its negotiated revision: no resultType, no cache hints.
  const json list = f.result(3, "tools/list");
  CHECK_FALSE(list.contains("resultType"));
  CHECK_FALSE(list.contains("ttlMs"));
}

TEST_CASE("valid_traceparent follows W3C Trace Context", "[core][modern]") {
  CHECK(valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
  CHECK_FALSE(valid_traceparent("ff-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent("00-0AF7651916CD43DD8448EB211C80319C-00f067aa0ba902b7-01"));
  CHECK_FALSE(valid_traceparent(""));
}

TEST_CASE("modern_version_of reads the version claim", "[core][modern]") {
  CHECK(modern_version_of(make_request(1, "tools/list", modern())) == "2026-07-28");
  CHECK_FALSE(modern_version_of(make_request(1, "tools/list", {{"_meta", json::object()}})));
  CHECK_FALSE(modern_version_of(make_request(1, "tools/list")));
  CHECK(modern_version_of(make_request(
            1, "tools/list", {{"_meta", {{"io.modelcontextprotocol/protocolVersion", 1}}}})) == "");
}

TEST_CASE("a prompt with a handler computes its messages", "[core][dispatcher][prompts]") {
  Fixture f;
  PromptDef computed;
  computed.name = "computed";
  computed.descriptor = {{"name", "computed"},
                         {"description", "Computed"},
                         {"arguments", json::array({{{"name", "topic"}, {"required", true}}})}};
  computed.handler = text_handler("About {topic}");
  PromptDef scripted = computed;
  scripted.name = "scripted";
  scripted.descriptor["name"] = "scripted";
  scripted.handler = exec_handler(
      f.dir(),
      {"/bin/sh", "-c",
       "read line; printf '{\"messages\":[{\"role\":\"assistant\",\"content\":{\"type\":\"text\","
       "\"text\":\"hi\"}}],\"description\":\"From the script\"}'"},
      ExecHandlerSpec::Output::json);
  f.catalog->prompts.push_back(computed);
  f.catalog->prompts.push_back(scripted);
  f.catalog->index();

  const json got =
      f.result(1, "prompts/get", modern({{"name", "computed"}, {"arguments", {{"topic", "tea"}}}}));
  CHECK(got["resultType"] == "complete");
  CHECK(got["description"] == "Computed");
  REQUIRE(got["messages"].size() == 1);
  CHECK(got["messages"][0] ==
        json{{"role", "user"}, {"content", {{"type", "text"}, {"text", "About tea"}}}});

  const json script =
      f.result(2, "prompts/get", modern({{"name", "scripted"}, {"arguments", {{"topic", "x"}}}}));
  CHECK(script["description"] == "From the script");
  CHECK(script["messages"][0]["role"] == "assistant");
  CHECK(f.dispatcher->blocks(make_request(3, "prompts/get", {{"name", "scripted"}})));
  CHECK_FALSE(f.dispatcher->blocks(make_request(3, "prompts/get", {{"name", "computed"}})));
  // Arguments are still checked before a handler runs.
  CHECK(f.error(4, "prompts/get", modern({{"name", "computed"}}))["code"] == -32602);
}
