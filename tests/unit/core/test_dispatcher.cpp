#include "tests/unit/core/dispatcher_fixture.hpp"

TEST_CASE("malformed JSON is a parse error with id null", "[core][dispatcher]") {
  Fixture f;
  for (const char* text : {"{", "{\"jsonrpc\":\"2.0\",", "nope", "", "[1,]", "\"\xff\""}) {
    auto answer = f.dispatcher->handle_text(text, f.session);
    REQUIRE(answer);
    CHECK((*answer)["error"]["code"] == -32700);
    CHECK((*answer)["id"].is_null());
  }
  // And the dispatcher keeps serving.
  auto answer = f.dispatcher->handle_text(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", f.session);
  REQUIRE(answer);
  CHECK((*answer)["result"] == json::object());
}

TEST_CASE("a number no double holds is a parse error, not an exception", "[core][dispatcher]") {
  // nlohmann throws out_of_range (not parse_error) for these (found by tests/fuzz).
  Fixture f;
  for (const char* text : {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":1e400}})",
                           "[-1E99999]", "888888E80000"}) {
    const auto parsed = f.dispatcher->parse(text);
    CHECK_FALSE(parsed.message);
    CHECK(parsed.refusal["error"]["code"] == -32700);
    CHECK(parsed.refusal["id"].is_null());
  }
}

TEST_CASE("invalid requests get -32600", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  struct Case {
    json message;
    json expected_id;
  };
  const std::vector<Case> cases{
      {json(42), nullptr},
      {json("ping"), nullptr},
      {json{{"id", 1}, {"method", "ping"}}, 1},                                  // no jsonrpc
      {json{{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}}, 1},              // wrong version
      {json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", 7}}, 2},                   // method type
      {json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"method", "ping"}}, nullptr},  // null id
      {json{{"jsonrpc", "2.0"}, {"id", 1.5}, {"method", "ping"}}, nullptr},      // fractional id
      {json{{"jsonrpc", "2.0"}, {"id", {{"a", 1}}}, {"method", "ping"}}, nullptr},
      {json{{"jsonrpc", "2.0"}, {"id", true}, {"method", "ping"}}, nullptr},
      {json{{"jsonrpc", "2.0"}, {"id", "s"}, {"method", "ping"}, {"params", "x"}}, "s"},
      {json{{"jsonrpc", "2.0"}, {"id", 3}}, 3},  // neither request nor response
      {json{{"jsonrpc", "2.0"}, {"method", 1}, {"params", "bar"}}, nullptr},
  };
  for (const auto& c : cases) {
    INFO(c.message.dump());
    const json answer = f.reply(c.message);
    CHECK(answer["jsonrpc"] == "2.0");
    CHECK(answer["error"]["code"] == -32600);
    CHECK(answer["id"] == c.expected_id);
  }
}

TEST_CASE("ids may be strings or integers and are echoed", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(f.reply(make_request("abc", "ping"))["id"] == "abc");
  CHECK(f.reply(make_request(-5, "ping"))["id"] == -5);
  CHECK(f.reply(make_request(0, "ping", json::object()))["result"] == json::object());
}

TEST_CASE("unknown methods get -32601, notifications never get replies", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  const json error = f.error(5, "tools/explode");
  CHECK(error["code"] == -32601);
  CHECK(error["message"].get<std::string>().find("tools/explode") != std::string::npos);
  CHECK_FALSE(f.handle(make_notification("notifications/whatever", {{"x", 1}})));
  CHECK_FALSE(f.handle(make_notification("tools/call", {{"name", "greet"}})));
  CHECK_FALSE(f.handle(make_notification("notifications/roots/list_changed")));
}

TEST_CASE("parameters of the wrong shape get -32602", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(f.reply(json{{"jsonrpc", "2.0"},
                     {"id", 1},
                     {"method", "tools/list"},
                     {"params", {1, 2}}})["error"]["code"] == -32602);
  CHECK(f.error(2, "tools/call", json::object())["code"] == -32602);
  CHECK(f.error(3, "tools/call", {{"name", 5}})["code"] == -32602);
  CHECK(f.error(4, "resources/read", json::object())["code"] == -32602);
  CHECK(f.error(5, "prompts/get", {{"name", nullptr}})["code"] == -32602);
  CHECK(f.error(6, "logging/setLevel", {{"level", "loud"}})["code"] == -32602);
  CHECK(f.error(7, "completion/complete", {{"ref", {{"type", "ref/prompt"}}}})["code"] == -32602);
}

TEST_CASE("batches answer with an array of replies", "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-03-26");
  const json batch =
      json::array({make_request(1, "ping"), make_notification("notifications/x"),
                   make_request("two", "tools/list"), json(1), make_request(3, "no/such/method")});
  const json answer = f.reply(batch);
  REQUIRE(answer.is_array());
  REQUIRE(answer.size() == 4);
  CHECK(answer[0]["id"] == 1);
  CHECK(answer[0]["result"] == json::object());
  CHECK(answer[1]["id"] == "two");
  CHECK(answer[1]["result"].contains("tools"));
  CHECK(answer[2]["id"].is_null());
  CHECK(answer[2]["error"]["code"] == -32600);
  CHECK(answer[3]["error"]["code"] == -32601);

  SECTION("an empty batch is invalid") {
    const json empty = f.reply(json::array());
    CHECK(empty.is_object());
    CHECK(empty["error"]["code"] == -32600);
    CHECK(empty["id"].is_null());
  }
  SECTION("a batch of notifications gets no reply") {
    CHECK_FALSE(
        f.handle(json::array({make_notification("notifications/initialized"),
                              make_notification("notifications/cancelled", {{"requestId", 9}})})));
  }
  SECTION("batches work from text too") {
    auto text = f.dispatcher->handle_text(
        R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])",
        f.session);
    REQUIRE(text);
    CHECK(text->size() == 2);
  }
}

TEST_CASE("batches are served only in sessions of 2025-03-26 and 2024-11-05",
          "[core][dispatcher]") {
  const json batch = json::array({make_request(1, "ping"), make_request(2, "ping")});
  const auto refused = [](const json& answer, const std::string& message) {
    REQUIRE(answer.is_object());
    CHECK(answer["id"].is_null());
    CHECK(answer["error"]["code"] == -32600);
    CHECK(answer["error"]["message"] == message);
  };
  SECTION("older sessions") {
    for (const std::string version : {"2024-11-05", "2025-03-26"}) {
      Fixture f;
      f.initialize(version);
      const json answer = f.reply(batch);
      REQUIRE(answer.is_array());
      CHECK(answer.size() == 2);
    }
  }
  SECTION("sessions from 2025-06-18 on") {
    for (const std::string version : {"2025-06-18", "2025-11-25"}) {
      Fixture f;
      f.initialize(version);
      refused(f.reply(batch),
              "invalid request: batches are not supported by protocol version " + version);
      // A batch of notifications is refused too: they are not run.
      refused(
          f.reply(json::array({make_notification("notifications/cancelled", {{"requestId", 9}})})),
          "invalid request: batches are not supported by protocol version " + version);
    }
  }
  SECTION("before initialize") {
    Fixture f;
    refused(f.reply(batch), "invalid request: batches are not supported before initialize");
    CHECK_FALSE(f.session.initialized());
  }
  SECTION("a stateless session follows the version it assumes") {
    Fixture f;
    f.session.assume_initialized("2025-03-26");
    CHECK(f.reply(batch).is_array());
    Fixture g;
    g.session.assume_initialized("2025-06-18");
    refused(g.reply(batch),
            "invalid request: batches are not supported by protocol version "
            "2025-06-18");
  }
}

TEST_CASE("messages nested deeper than the limit are refused", "[core][dispatcher]") {
  DispatcherOptions options;
  options.max_json_depth = 8;
  Fixture f(options);
  f.initialize();
  json deep = 1;
  for (int i = 0; i < 10; ++i) deep = json::array({deep});
  const json message = make_request(1, "ping", {{"deep", deep}});
  CHECK(f.reply(message)["error"]["code"] == -32600);

  auto from_text = f.dispatcher->handle_text(message.dump(), f.session);
  REQUIRE(from_text);
  CHECK((*from_text)["error"]["code"] == -32600);

  std::string bomb(100000, '[');
  auto deep_text = f.dispatcher->handle_text(bomb, f.session);
  REQUIRE(deep_text);
  CHECK((*deep_text)["error"]["code"] == -32600);

  json shallow = json::array({json::array({1})});
  CHECK(f.reply(make_request(2, "ping", {{"ok", shallow}})).contains("result"));
}

TEST_CASE("the nesting limit of parsed text counts every container, the message's own too",
          "[core][dispatcher]") {
  DispatcherOptions options;
  options.max_json_depth = 8;
  Fixture f(options);
  f.initialize();
  // The message (1) and its params (2) around `arrays` nested arrays.
  const auto ping = [](int arrays) {
    return R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":)" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}}";
  };
  const auto at_limit = f.dispatcher->handle_text(ping(6), f.session);
  REQUIRE(at_limit);
  CHECK(at_limit->contains("result"));
  const auto over = f.dispatcher->handle_text(ping(7), f.session);
  REQUIRE(over);
  CHECK((*over)["error"]["code"] == -32600);
  // Malformed before it gets too deep: a parse error, as the parser meets it first.
  const auto malformed =
      f.dispatcher->handle_text(R"({"jsonrpc":"2.0","id":1,"x":nope,"y":[[[[[[[[[[[[]]]]]]]]]]]]})",
                                f.session);
  REQUIRE(malformed);
  CHECK((*malformed)["error"]["code"] == -32700);
  CHECK((*malformed)["id"].is_null());
}

TEST_CASE("client responses are routed to the session, never answered", "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-11-25", {{"roots", json::object()}});
  CHECK_FALSE(f.handle(json{{"jsonrpc", "2.0"}, {"id", "mcpd-99"}, {"result", json::object()}}));
  CHECK_FALSE(f.handle(json{{"jsonrpc", "2.0"},
                            {"id", nullptr},
                            {"error", {{"code", -32700}, {"message", "parse error"}}}}));
}

// ---------------------------------------------------------------------------------------------
// Lifecycle

TEST_CASE("before initialize only initialize and ping are served", "[core][dispatcher]") {
  Fixture f;
  CHECK(f.result(1, "ping") == json::object());
  const json error = f.error(2, "tools/list");
  CHECK(error["code"] == -32600);
  CHECK(error["message"].get<std::string>().find("not initialized") != std::string::npos);
  CHECK(f.error(3, "tools/call", {{"name", "greet"}})["code"] == -32600);
  CHECK_FALSE(f.session.initialized());
}

TEST_CASE("initialize negotiates the protocol version", "[core][dispatcher]") {
  for (const auto& version : legacy_protocol_versions()) {
    Fixture f;
    const json init = f.initialize(version);
    CHECK(init["protocolVersion"] == version);
    CHECK(f.session.protocol_version() == version);
  }
  Fixture f;
  const json init = f.initialize("2030-01-01");
  CHECK(init["protocolVersion"] == "2025-11-25");
  CHECK(f.session.protocol_version() == "2025-11-25");
}

TEST_CASE("initialize reports capabilities, server info and instructions", "[core][dispatcher]") {
  DispatcherOptions options;
  options.info.name = "shop";
  options.info.version = "1.4.0";
  options.info.title = "Shop tools";
  options.info.instructions = "Prices are decimal strings.";
  Fixture f(options);
  const json init = f.initialize("2025-11-25", {{"sampling", json::object()}});
  const json& caps = init["capabilities"];
  CHECK(caps["tools"] == json{{"listChanged", false}});
  CHECK(caps["logging"] == json::object());
  CHECK(caps["completions"] == json::object());
  CHECK(caps["resources"] == json{{"subscribe", true}, {"listChanged", false}});
  CHECK(caps["prompts"] == json{{"listChanged", false}});
  CHECK(init["serverInfo"] ==
        json{{"name", "shop"}, {"version", "1.4.0"}, {"title", "Shop tools"}});
  CHECK(init["instructions"] == "Prices are decimal strings.");
  CHECK(f.session.client_capabilities().contains("sampling"));
  CHECK(f.session.client_info()["name"] == "test");

  SECTION("2024-11-05 clients see only what that revision defines") {
    Fixture old(options);
    const json old_init = old.initialize("2024-11-05");
    CHECK_FALSE(old_init["capabilities"].contains("completions"));
    CHECK_FALSE(old_init["serverInfo"].contains("title"));
  }
}

TEST_CASE("an empty catalog advertises neither resources nor prompts", "[core][dispatcher]") {
  Session session([](const json&) {});
  Dispatcher dispatcher(std::make_shared<Catalog>(),
                        std::make_shared<HandlerRunner>(ExecSettings{}));
  auto answer = dispatcher.handle(make_request(1, "initialize",
                                               {{"protocolVersion", "2025-06-18"},
                                                {"capabilities", json::object()},
                                                {"clientInfo", {{"name", "c"}, {"version", "1"}}}}),
                                  session);
  REQUIRE(answer);
  const json& caps = (*answer)["result"]["capabilities"];
  CHECK(caps.contains("tools"));
  CHECK(caps.contains("logging"));
  CHECK_FALSE(caps.contains("resources"));
  CHECK_FALSE(caps.contains("prompts"));
  CHECK_FALSE((*answer)["result"].contains("instructions"));
  auto tools = dispatcher.handle(make_request(2, "tools/list"), session);
  CHECK((*tools)["result"]["tools"] == json::array());
}

TEST_CASE("initialize is refused twice, in a batch, or without a version", "[core][dispatcher]") {
  Fixture f;
  CHECK(f.error(1, "initialize", {{"capabilities", json::object()}})["code"] == -32602);
  const json init_params{{"protocolVersion", "2025-06-18"},
                         {"capabilities", json::object()},
                         {"clientInfo", {{"name", "c"}, {"version", "1"}}}};
  const json batch = f.reply(json::array({make_request(2, "initialize", init_params)}));
  CHECK(batch["error"]["code"] == -32600);
  CHECK_FALSE(f.session.initialized());

  f.result(3, "initialize", init_params);
  CHECK(f.error(4, "initialize", init_params)["code"] == -32600);
  CHECK(f.session.protocol_version() == "2025-06-18");
}

// ---------------------------------------------------------------------------------------------
// Tools

TEST_CASE("tools/list pages through the catalog with opaque cursors", "[core][dispatcher]") {
  DispatcherOptions options;
  options.page_size = 4;
  Fixture f(options);
  f.initialize();
  std::vector<std::string> seen;
  json params = json::object();
  int pages = 0;
  for (;;) {
    const json page = f.result(++pages, "tools/list", params);
    CHECK(page["tools"].size() <= 4);
    for (const auto& name : names(page["tools"])) seen.push_back(name);
    if (!page.contains("nextCursor")) break;
    CHECK(page["tools"].size() == 4);
    params = {{"cursor", page["nextCursor"]}};
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  std::vector<std::string> expected;
  for (const auto& tool : f.catalog->tools) expected.push_back(tool.name);
  CHECK(seen == expected);

  const json first = f.result(20, "tools/list");
  CHECK(first["tools"][0]["inputSchema"]["type"] == "object");
  CHECK_FALSE(first["tools"][0].contains("handler"));

  SECTION("bad cursors are -32602") {
    const json prompts_page = [&] {
      DispatcherOptions one;
      one.page_size = 1;
      Fixture g(one);
      g.initialize();
      return g.result(1, "prompts/list");
    }();
    REQUIRE(prompts_page.contains("nextCursor"));
    for (const json& cursor :
         {json("garbage!"), json("dG9vbHM6OTk5"), json(7), json(""), prompts_page["nextCursor"]}) {
      INFO(cursor.dump());
      CHECK(f.error(30, "tools/list", {{"cursor", cursor}})["code"] == -32602);
    }
  }
}

TEST_CASE("tools outside the token's allow-list are hidden and refused", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  Identity identity;
  identity.token_name = "ci";
  identity.allowed_tools = {"greet", "weather"};
  f.session.set_identity(identity);

  const json list = f.result(1, "tools/list");
  CHECK(names(list["tools"]) == std::vector<std::string>{"greet", "weather"});

  const json refused = f.error(2, "tools/call", {{"name", "secret"}});
  const json unknown = f.error(3, "tools/call", {{"name", "nonexistent"}});
  CHECK(refused["code"] == -32602);
  CHECK(refused["message"] == "unknown tool: secret");
  CHECK(unknown["message"] == "unknown tool: nonexistent");
  CHECK(first_text(f.call_tool("greet", {{"name", "Ada"}}, 4)) == "Hello Ada x3 [] {other}");
}

TEST_CASE("an invalid identity lists no tools and is refused with its reason",
          "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  Identity identity;
  identity.valid = false;
  identity.invalid_reason = "token revoked";
  f.session.set_identity(identity);
  CHECK(f.result(1, "tools/list")["tools"] == json::array());
  const json error = f.error(2, "tools/call", {{"name", "greet"}, {"arguments", {{"name", "x"}}}});
  CHECK(error["code"] == -32600);
  CHECK(error["message"].get<std::string>().find("token revoked") != std::string::npos);
  CHECK(f.observer->calls.empty());
}

TEST_CASE("tools/call applies defaults and fills placeholders", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(first_text(f.call_tool("greet", {{"name", "Ada"}})) == "Hello Ada x3 [] {other}");
  CHECK(first_text(f.call_tool("greet", {{"name", "Bo"}, {"count", 2}, {"note", "hi"}})) ==
        "Hello Bo x2 [hi] {other}");
  CHECK(f.observer->calls ==
        std::vector<std::pair<std::string, bool>>{{"greet", false}, {"greet", false}});

  SECTION("arguments may be absent when the schema allows it") {
    CHECK(first_text(f.result(9, "tools/call", {{"name", "secret"}})) == "classified");
  }
  SECTION("arguments must be an object") {
    CHECK(f.error(9, "tools/call", {{"name", "greet"}, {"arguments", {1, 2}}})["code"] == -32602);
  }
}

TEST_CASE("argument validation failures are tool errors naming the field", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  const json missing = f.call_tool("greet", json::object());
  CHECK(missing["isError"] == true);
  CHECK_THAT(first_text(missing), Catch::Contains("name"));

  const json too_big = f.call_tool("greet", {{"name", "Ada"}, {"count", 50}}, 2);
  CHECK(too_big["isError"] == true);
  CHECK_THAT(first_text(too_big), Catch::Contains("count"));

  const json wrong_type = f.call_tool("greet", {{"name", 12}}, 3);
  CHECK(wrong_type["isError"] == true);
  CHECK_THAT(first_text(wrong_type), Catch::Contains("name"));
  CHECK(f.observer->calls.size() == 3);
  CHECK(f.observer->calls[0].second);
  CHECK(f.observer->negative_durations == 0);
}

TEST_CASE("structuredContent is checked against the outputSchema", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  const json ok = f.call_tool("weather");
  CHECK_FALSE(ok.contains("isError"));
  CHECK(ok["structuredContent"] == json{{"temp", 21.5}});
  // The serialized JSON is added as text for clients that do not read structuredContent.
  CHECK(json::parse(first_text(ok)) == json{{"temp", 21.5}});

  const json broken = f.call_tool("broken_output");
  CHECK(broken["isError"] == true);
  CHECK_THAT(first_text(broken), Catch::Contains("outputSchema"));

  const json missing = f.call_tool("missing_output");
  CHECK(missing["isError"] == true);
  CHECK_THAT(first_text(missing), Catch::Contains("structuredContent"));

  // A tool error needs no structuredContent.
  const json failing = f.call_tool("failing");
  CHECK(failing["isError"] == true);
  CHECK(first_text(failing) == "no weather today");
}

TEST_CASE("older protocol revisions do not see structured output fields", "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-03-26");
  const json list = f.result(1, "tools/list");
  for (const auto& tool : list["tools"]) CHECK_FALSE(tool.contains("outputSchema"));
  const json ok = f.call_tool("weather");
  CHECK_FALSE(ok.contains("structuredContent"));
  CHECK(json::parse(first_text(ok)) == json{{"temp", 21.5}});

  Fixture g;
  g.initialize("2025-06-18");
  const json list_new = g.result(1, "tools/list");
  bool has_output_schema = false;
  for (const auto& tool : list_new["tools"]) has_output_schema |= tool.contains("outputSchema");
  CHECK(has_output_schema);
}

TEST_CASE("an http tool without an upstream client is a tool error", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  const json result = f.call_tool("remote");
  CHECK(result["isError"] == true);
  CHECK(first_text(result) == "http handler not available");
  CHECK(f.observer->calls == std::vector<std::pair<std::string, bool>>{{"remote", true}});
}

TEST_CASE("the transport's correlation id reaches the handler", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  auto given = f.handle(make_request(1, "tools/call", {{"name", "correlation"}}), "req-abc-123");
  REQUIRE(given);
  CHECK(first_text((*given)["result"]) == "req-abc-123");

  // Without one, each message gets a fresh id.
  const std::string generated = first_text(f.call_tool("correlation", json::object(), 2));
  const std::string again = first_text(f.call_tool("correlation", json::object(), 3));
  CHECK(generated.size() >= 16);
  CHECK(generated.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(generated != again);
}

TEST_CASE("progress notifications are sent only with a progressToken", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(first_text(f.call_tool("chatty")) == "done");
  CHECK(f.outbox.with_method("notifications/progress").empty());

  f.result(2, "tools/call", {{"name", "chatty"}, {"_meta", {{"progressToken", "tok-1"}}}});
  const auto progress = f.outbox.with_method("notifications/progress");
  REQUIRE(progress.size() == 1);
  CHECK(
      progress[0]["params"] ==
      json{{"progressToken", "tok-1"}, {"progress", 1.0}, {"total", 4.0}, {"message", "quarter"}});
}

TEST_CASE("logging/setLevel filters notifications/message", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  f.call_tool("chatty");
  CHECK(f.outbox.with_method("notifications/message").size() == 2);  // no level set: all

  CHECK(f.result(2, "logging/setLevel", {{"level", "warning"}}) == json::object());
  f.call_tool("chatty", json::object(), 3);
  const auto messages = f.outbox.with_method("notifications/message");
  REQUIRE(messages.size() == 3);
  CHECK(messages[2]["params"] == json{{"level", "error"}, {"logger", "t"}, {"data", "bad"}});
}

TEST_CASE("a handler's request to the client is relayed and answered", "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-11-25", {{"roots", {{"listChanged", true}}}});
  std::optional<json> answer;
  std::thread call([&] { answer = f.handle(make_request(7, "tools/call", {{"name", "roots"}})); });
  const json request = f.outbox.wait_for("roots/list");
  CHECK(request["id"].is_string());
  CHECK_FALSE(f.handle(json{{"jsonrpc", "2.0"},
                            {"id", request["id"]},
                            {"result", {{"roots", {{{"uri", "file:///src"}}}}}}}));
  call.join();
  REQUIRE(answer);
  INFO(answer->dump());
  CHECK((*answer)["result"]["structuredContent"]["result"]["roots"][0]["uri"] == "file:///src");
}

TEST_CASE("a relayed request the client never answers ends with the handler's timeout",
          "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-11-25", {{"roots", json::object()}});
  const json result = f.call_tool("impatient");
  CHECK(result["isError"] == true);
  const json request = f.outbox.wait_for("roots/list");
  const json cancelled = f.outbox.wait_for("notifications/cancelled");
  CHECK(cancelled["params"]["requestId"] == request["id"]);
}

TEST_CASE("a request needing a capability the client lacks is not sent", "[core][dispatcher]") {
  Fixture f;
  f.initialize("2025-11-25", json::object());
  const json result = f.call_tool("roots");
  INFO(result.dump());
  CHECK(result["structuredContent"]["error"]["code"] == -32601);
  CHECK_THAT(result["structuredContent"]["error"]["message"].get<std::string>(),
             Catch::Contains("roots"));
  CHECK(f.outbox.with_method("roots/list").empty());
}

TEST_CASE("a cancelled call gets no reply", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  std::optional<json> answer = json("not yet");
  std::atomic<bool> done{false};
  std::thread call([&] {
    answer = f.handle(make_request(11, "tools/call", {{"name", "sleeper"}}));
    done = true;
  });
  // Generous: the machine may be loaded. Never an assertion on speed.
  for (int i = 0; i < 6000 && f.session.in_flight() == 0 && !done; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(done);

  SECTION("a duplicate id while in flight is refused") {
    CHECK(f.error(11, "tools/call", {{"name", "greet"}, {"arguments", {{"name", "x"}}}})["code"] ==
          -32600);
  }
  SECTION("ping is still answered") {
    CHECK(f.result(12, "ping") == json::object());
  }

  CHECK_FALSE(f.handle(make_notification("notifications/cancelled",
                                         {{"requestId", 11}, {"reason", "user gave up"}})));
  call.join();
  CHECK_FALSE(answer);
  CHECK(f.session.in_flight() == 0);
  REQUIRE(f.observer->calls.size() == 1);
  CHECK(f.observer->calls[0] == std::pair<std::string, bool>{"sleeper", true});
}

TEST_CASE("may_block flags calls that run handlers", "[core][dispatcher]") {
  CHECK(Dispatcher::may_block(make_request(1, "tools/call", {{"name", "x"}})));
  CHECK(Dispatcher::may_block(make_request(1, "resources/read", {{"uri", "x"}})));
  CHECK(Dispatcher::may_block(make_request(1, "prompts/get", {{"name", "x"}})));
  CHECK(
      Dispatcher::may_block(json::array({make_request(1, "ping"), make_request(2, "tools/call")})));
  CHECK_FALSE(Dispatcher::may_block(make_request(1, "ping")));
  CHECK_FALSE(Dispatcher::may_block(make_request(1, "tools/list")));
  CHECK_FALSE(Dispatcher::may_block(json::array({make_request(1, "ping")})));
  CHECK_FALSE(Dispatcher::may_block(json(3)));
}

// ---------------------------------------------------------------------------------------------
// Resources

TEST_CASE("resources/list and resources/templates/list", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  const json resources = f.result(1, "resources/list");
  CHECK(names(resources["resources"], "uri") ==
        std::vector<std::string>{"mem://hello", "file:///readme", "file:///logo", "file:///untyped",
                                 "static://handled", "static://refused"});
  const json templates = f.result(2, "resources/templates/list");
  CHECK(names(templates["resourceTemplates"], "uriTemplate") ==
        std::vector<std::string>{"greet://{who}", "doc://{name}"});
}

TEST_CASE("resources/read serves text, files, blobs, templates and handlers",
          "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  auto read = [&](const std::string& uri) {
    const json result = f.result(1, "resources/read", {{"uri", uri}});
    REQUIRE(result["contents"].size() == 1);
    return result["contents"][0];
  };

  CHECK(read("mem://hello") ==
        json{{"uri", "mem://hello"}, {"mimeType", "text/plain"}, {"text", "Hello, world"}});
  CHECK(read("file:///readme") ==
        json{{"uri", "file:///readme"}, {"mimeType", "text/markdown"}, {"text", "# Readme\n"}});
  CHECK(read("file:///logo") ==
        json{{"uri", "file:///logo"}, {"mimeType", "image/png"}, {"blob", "iVBORw0KGgoAAf8="}});
  CHECK(read("file:///untyped") == json{{"uri", "file:///untyped"}, {"text", "plain notes"}});
  CHECK(read("greet://Ada") ==
        json{{"uri", "greet://Ada"}, {"mimeType", "text/plain"}, {"text", "Hi Ada!"}});
  CHECK(read("doc://intro")["text"] == "Intro text");
  CHECK(read("static://handled") == json{{"uri", "static://handled"},
                                         {"mimeType", "text/plain"},
                                         {"text", "from the handler"}});
}

TEST_CASE("resources/read refuses unknown URIs and escapes with -32002", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  for (const std::string uri : {"mem://nothing", "doc://missing", "doc://..", "doc://../secret"}) {
    INFO(uri);
    const json error = f.error(1, "resources/read", {{"uri", uri}});
    CHECK(error["code"] == -32002);
    CHECK(error["data"]["uri"] == uri);
  }
  const json failed = f.error(2, "resources/read", {{"uri", "static://refused"}});
  CHECK(failed["code"] == -32603);
  CHECK(failed["data"]["reason"] == "no weather today");
}

TEST_CASE("resources/subscribe records subscriptions", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(f.result(1, "resources/subscribe", {{"uri", "mem://hello"}}) == json::object());
  CHECK(f.result(2, "resources/subscribe", {{"uri", "greet://Bo"}}) == json::object());
  CHECK(f.session.subscribed("mem://hello"));
  CHECK(f.session.subscribed("greet://Bo"));
  CHECK(f.error(3, "resources/subscribe", {{"uri", "mem://nothing"}})["code"] == -32002);
  CHECK(f.result(4, "resources/unsubscribe", {{"uri", "mem://hello"}}) == json::object());
  CHECK_FALSE(f.session.subscribed("mem://hello"));
}

// ---------------------------------------------------------------------------------------------
// Prompts and completion

TEST_CASE("prompts/list and prompts/get", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  CHECK(names(f.result(1, "prompts/list")["prompts"]) ==
        std::vector<std::string>{"summarize", "pick"});

  const json got =
      f.result(2, "prompts/get",
               {{"name", "summarize"}, {"arguments", {{"order_id", "A-17"}, {"tone", "warm"}}}});
  CHECK(got["description"] == "The summarize prompt");
  CHECK(got["messages"][0]["content"]["text"] == "Summarize order A-17 in a warm tone. {literal}");

  const json optional_absent =
      f.result(3, "prompts/get", {{"name", "summarize"}, {"arguments", {{"order_id", "B"}}}});
  CHECK(optional_absent["messages"][0]["content"]["text"] ==
        "Summarize order B in a  tone. {literal}");

  const json missing = f.error(4, "prompts/get", {{"name", "summarize"}});
  CHECK(missing["code"] == -32602);
  CHECK_THAT(missing["message"].get<std::string>(), Catch::Contains("order_id"));
  CHECK(f.error(5, "prompts/get", {{"name", "nope"}})["code"] == -32602);
  CHECK(f.error(6, "prompts/get",
                {{"name", "summarize"}, {"arguments", {{"order_id", 5}}}})["code"] == -32602);
}

TEST_CASE("completion/complete filters prompt argument values by prefix", "[core][dispatcher]") {
  Fixture f;
  f.initialize();
  auto complete = [&](json ref, const std::string& argument, const std::string& value) {
    return f.result(
        1, "completion/complete",
        {{"ref", ref}, {"argument", {{"name", argument}, {"value", value}}}})["completion"];
  };
  const json summarize{{"type", "ref/prompt"}, {"name", "summarize"}};
  CHECK(complete(summarize, "tone", "f") ==
        json{{"values", {"formal", "friendly", "funny"}}, {"total", 3}, {"hasMore", false}});
  CHECK(complete(summarize, "tone", "")["values"].size() == 4);
  CHECK(complete(summarize, "tone", "F")["values"] == json::array());  // case-sensitive
  CHECK(complete(summarize, "order_id", "")["values"] == json::array());

  const json many = complete({{"type", "ref/prompt"}, {"name", "pick"}}, "value", "v1");
  CHECK(many["values"].size() == 100);
  CHECK(many["total"] == 150);
  CHECK(many["hasMore"] == true);

  CHECK(complete({{"type", "ref/resource"}, {"uri", "greet://{who}"}}, "who", "A")["values"] ==
        json::array());
  CHECK(f.error(2, "completion/complete",
                {{"ref", {{"type", "ref/prompt"}, {"name", "nope"}}},
                 {"argument", {{"name", "x"}, {"value", ""}}}})["code"] == -32602);
  CHECK(f.error(3, "completion/complete",
                {{"ref", {{"type", "ref/tool"}, {"name", "greet"}}},
                 {"argument", {{"name", "x"}, {"value", ""}}}})["code"] == -32602);
}
