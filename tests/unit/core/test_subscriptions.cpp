#include <catch2/catch.hpp>
#include <mutex>
#include <vector>

#include "core/protocol/subscriptions.hpp"

using namespace mcpd::core;
using nlohmann::json;

namespace {

// A listen's client: what the hub sent it, in order.
struct Client {
  std::vector<json> received;
  SubscriptionHub::Sink sink() {
    return [this](const json& message) { received.push_back(message); };
  }
};

SubscriptionFilter filter_of(const json& value) {
  auto filter = SubscriptionFilter::from_json(value);
  REQUIRE(filter);
  return *filter;
}

}  // namespace

TEST_CASE("subscription filters read the schema's SubscriptionFilter", "[core][subscriptions]") {
  const auto filter = filter_of({{"toolsListChanged", true},
                                 {"promptsListChanged", false},
                                 {"resourceSubscriptions", {"a://x"}}});
  CHECK(filter.tools_list_changed);
  CHECK_FALSE(filter.prompts_list_changed);
  CHECK(filter.resource_uris == std::vector<std::string>{"a://x"});
  CHECK(filter.to_json() == json{{"toolsListChanged", true}, {"resourceSubscriptions", {"a://x"}}});
  CHECK(filter_of(json::object()).empty());
  CHECK_FALSE(SubscriptionFilter::from_json(nullptr));
  CHECK_FALSE(SubscriptionFilter::from_json({{"toolsListChanged", "yes"}}));
  CHECK_FALSE(SubscriptionFilter::from_json({{"resourceSubscriptions", "a://x"}}));
  CHECK_FALSE(SubscriptionFilter::from_json({{"resourceSubscriptions", {1}}}));
}

TEST_CASE("only what the server supports is honoured", "[core][subscriptions]") {
  const auto requested = filter_of({{"toolsListChanged", true},
                                    {"promptsListChanged", true},
                                    {"resourcesListChanged", true},
                                    {"resourceSubscriptions", {"a://x"}}});
  SubscriptionSupport support;
  support.tools_list_changed = true;
  support.resource_updates = true;
  const auto honored = honored_filter(requested, support);
  CHECK(honored.to_json() ==
        json{{"toolsListChanged", true}, {"resourceSubscriptions", {"a://x"}}});
  CHECK(honored_filter(requested, SubscriptionSupport{}).empty());
}

TEST_CASE("a listen is acknowledged first, then gets what it opted in to",
          "[core][subscriptions]") {
  SubscriptionHub hub;
  Client tools, resources;
  const int owner = 0;
  REQUIRE(hub.open(&owner, "listen:1", filter_of({{"toolsListChanged", true}}), tools.sink()) ==
          SubscriptionHub::Opened::listening);
  REQUIRE(hub.open(&owner, 2, filter_of({{"resourceSubscriptions", {"a://x"}}}),
                   resources.sink()) == SubscriptionHub::Opened::listening);
  CHECK(hub.size() == 2);
  REQUIRE(tools.received.size() == 1);
  const json& ack = tools.received[0];
  CHECK(ack["method"] == "notifications/subscriptions/acknowledged");
  CHECK(ack["params"]["notifications"] == json{{"toolsListChanged", true}});
  CHECK(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "listen:1");
  CHECK_FALSE(ack.contains("id"));

  hub.tools_list_changed();
  hub.prompts_list_changed();  // nobody asked
  hub.resource_updated("a://other");
  hub.resource_updated("a://x");
  REQUIRE(tools.received.size() == 2);
  CHECK(tools.received[1]["method"] == "notifications/tools/list_changed");
  CHECK(tools.received[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] ==
        "listen:1");
  REQUIRE(resources.received.size() == 2);
  CHECK(resources.received[1]["method"] == "notifications/resources/updated");
  CHECK(resources.received[1]["params"]["uri"] == "a://x");
  CHECK(resources.received[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 2);
}

TEST_CASE("an ended listen hears nothing more", "[core][subscriptions]") {
  SubscriptionHub hub;
  Client client;
  const int a = 0, b = 0;
  hub.open(&a, 1, filter_of({{"toolsListChanged", true}}), client.sink());
  CHECK(hub.live(&a, 1));
  CHECK_FALSE(hub.live(&b, 1));  // ids are per owner
  CHECK(hub.open(&a, 1, filter_of({{"toolsListChanged", true}}), client.sink()) ==
        SubscriptionHub::Opened::duplicate);
  CHECK(hub.end(&a, 1));
  CHECK_FALSE(hub.end(&a, 1));
  hub.tools_list_changed();
  CHECK(client.received.size() == 1);  // the acknowledgement only

  hub.open(&a, 2, filter_of({{"toolsListChanged", true}}), client.sink());
  hub.open(&b, 2, filter_of({{"toolsListChanged", true}}), client.sink());
  hub.end_all(&a);
  CHECK(hub.size() == 1);
  CHECK(hub.live(&b, 2));
}

TEST_CASE("closing a listen sends its final result", "[core][subscriptions]") {
  SubscriptionHub hub;
  Client first, second;
  const int a = 0, b = 0;
  hub.open(&a, "x", filter_of({{"toolsListChanged", true}}), first.sink());
  hub.open(&b, 7, filter_of({{"toolsListChanged", true}}), second.sink());
  const json info{{"name", "mcpd"}, {"version", "1"}};
  hub.close(&a, info);
  REQUIRE(first.received.size() == 2);
  const json& result = first.received[1];
  CHECK(result["id"] == "x");
  CHECK(result["result"]["resultType"] == "complete");
  CHECK(result["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "x");
  CHECK(result["result"]["_meta"]["io.modelcontextprotocol/serverInfo"] == info);
  CHECK(hub.size() == 1);
  hub.close_all(info);
  CHECK(hub.size() == 0);
  CHECK(second.received.back()["id"] == 7);
}

TEST_CASE("the hub is bounded", "[core][subscriptions]") {
  SubscriptionHub hub(2);
  Client client;
  const int owner = 0;
  CHECK(hub.open(&owner, 1, {}, client.sink()) == SubscriptionHub::Opened::listening);
  CHECK(hub.open(&owner, 2, {}, client.sink()) == SubscriptionHub::Opened::listening);
  CHECK(hub.open(&owner, 3, {}, client.sink()) == SubscriptionHub::Opened::full);
  CHECK(client.received.size() == 2);
}
