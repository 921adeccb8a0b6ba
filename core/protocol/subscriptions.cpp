#include "core/protocol/subscriptions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/protocol/dispatcher_internal.hpp"
#include "core/protocol/rpc.hpp"

namespace mcpd::core {

namespace {

constexpr std::string_view k_subscription_id = "io.modelcontextprotocol/subscriptionId";
constexpr std::string_view k_server_info = "io.modelcontextprotocol/serverInfo";

std::string key_of(const json& id) {
  return id.dump();
}

// Reads an optional boolean member; false when `value[name]` is present but not a boolean.
bool read_flag(const json& value, const char* name, bool& out) {
  const auto it = value.find(name);
  if (it == value.end()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

// A notification stamped with the listen's id.
json stamped(const std::string& method, json params, const json& id) {
  if (!params.is_object()) params = json::object();
  params["_meta"][k_subscription_id] = id;
  return make_notification(method, std::move(params));
}

}  // namespace

std::optional<SubscriptionFilter> SubscriptionFilter::from_json(const json& value) {
  if (!value.is_object()) return std::nullopt;
  SubscriptionFilter filter;
  if (!read_flag(value, "toolsListChanged", filter.tools_list_changed) ||
      !read_flag(value, "promptsListChanged", filter.prompts_list_changed) ||
      !read_flag(value, "resourcesListChanged", filter.resources_list_changed))
    return std::nullopt;
  if (const auto uris = value.find("resourceSubscriptions"); uris != value.end()) {
    if (!uris->is_array()) return std::nullopt;
    for (const auto& uri : *uris) {
      if (!uri.is_string()) return std::nullopt;
      filter.resource_uris.push_back(uri.get<std::string>());
    }
  }
  return filter;
}

json SubscriptionFilter::to_json() const {
  json out = json::object();
  if (tools_list_changed) out["toolsListChanged"] = true;
  if (prompts_list_changed) out["promptsListChanged"] = true;
  if (resources_list_changed) out["resourcesListChanged"] = true;
  if (!resource_uris.empty()) out["resourceSubscriptions"] = resource_uris;
  return out;
}

bool SubscriptionFilter::empty() const {
  return !tools_list_changed && !prompts_list_changed && !resources_list_changed &&
         resource_uris.empty();
}

SubscriptionFilter honored_filter(const SubscriptionFilter& requested,
                                  const SubscriptionSupport& support) {
  SubscriptionFilter honored;
  honored.tools_list_changed = requested.tools_list_changed && support.tools_list_changed;
  honored.prompts_list_changed = requested.prompts_list_changed && support.prompts_list_changed;
  honored.resources_list_changed =
      requested.resources_list_changed && support.resources_list_changed;
  if (support.resource_updates) honored.resource_uris = requested.resource_uris;
  return honored;
}

SubscriptionHub::SubscriptionHub(std::size_t max_listens) : m_max_listens(max_listens) {}

SubscriptionHub::Opened SubscriptionHub::open(const void* owner, const json& id,
                                              SubscriptionFilter filter, Sink sink) {
  std::lock_guard lock(m_mutex);
  Key key{owner, key_of(id)};
  if (m_listens.count(key)) return Opened::duplicate;
  if (m_listens.size() >= m_max_listens) return Opened::full;
  const json ack = acknowledgement(id, filter);
  auto& listen = m_listens.emplace(std::move(key), Listen{id, std::move(filter), std::move(sink)})
                     .first->second;
  listen.sink(ack);
  return Opened::listening;
}

bool SubscriptionHub::live(const void* owner, const json& id) const {
  std::lock_guard lock(m_mutex);
  return m_listens.count(Key{owner, key_of(id)}) != 0;
}

bool SubscriptionHub::end(const void* owner, const json& id) {
  std::lock_guard lock(m_mutex);
  return m_listens.erase(Key{owner, key_of(id)}) != 0;
}

void SubscriptionHub::end_all(const void* owner) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_listens, [owner](const auto& entry) { return entry.first.first == owner; });
}

void SubscriptionHub::close_if(const std::function<bool(const Key&)>& match,
                               const json& server_info) {
  std::lock_guard lock(m_mutex);
  for (auto it = m_listens.begin(); it != m_listens.end();) {
    if (!match(it->first)) {
      ++it;
      continue;
    }
    // Gone before its last message goes out: nothing can reach it after that one.
    Listen listen = std::move(it->second);
    it = m_listens.erase(it);
    listen.sink(closing_result(listen.id, server_info));
  }
}

void SubscriptionHub::close(const void* owner, const json& server_info) {
  close_if([owner](const Key& key) { return key.first == owner; }, server_info);
}

void SubscriptionHub::close_all(const json& server_info) {
  close_if([](const Key&) { return true; }, server_info);
}

void SubscriptionHub::publish(const std::function<bool(const SubscriptionFilter&)>& wants,
                              const std::string& method, const json& params) {
  std::lock_guard lock(m_mutex);
  std::size_t told = 0;
  for (auto& [key, listen] : m_listens) {
    if (!wants(listen.filter)) continue;
    listen.sink(stamped(method, params, listen.id));
    ++told;
  }
  if (told > 0) spdlog::debug("{} sent on {} listen(s)", method, told);
}

void SubscriptionHub::tools_list_changed() {
  publish([](const SubscriptionFilter& f) { return f.tools_list_changed; },
          "notifications/tools/list_changed", json::object());
}

void SubscriptionHub::prompts_list_changed() {
  publish([](const SubscriptionFilter& f) { return f.prompts_list_changed; },
          "notifications/prompts/list_changed", json::object());
}

void SubscriptionHub::resources_list_changed() {
  publish([](const SubscriptionFilter& f) { return f.resources_list_changed; },
          "notifications/resources/list_changed", json::object());
}

void SubscriptionHub::resource_updated(const std::string& uri) {
  publish(
      [&uri](const SubscriptionFilter& f) {
        return std::find(f.resource_uris.begin(), f.resource_uris.end(), uri) !=
               f.resource_uris.end();
      },
      "notifications/resources/updated", json{{"uri", uri}});
}

std::size_t SubscriptionHub::size() const {
  std::lock_guard lock(m_mutex);
  return m_listens.size();
}

json SubscriptionHub::acknowledgement(const json& id, const SubscriptionFilter& filter) {
  return stamped("notifications/subscriptions/acknowledged",
                 json{{"notifications", filter.to_json()}}, id);
}

json SubscriptionHub::closing_result(const json& id, const json& server_info) {
  json meta{{k_subscription_id, id}};
  if (server_info.is_object()) meta[k_server_info] = server_info;
  return make_result(id, json{{"resultType", "complete"}, {"_meta", std::move(meta)}});
}

namespace detail {

// subscriptions/listen: acknowledged at once; then open, without a reply and without holding a
// thread, until the client cancels it or leaves, or the server closes it. With nothing to
// honour it is acknowledged and answered at once.
Result subscriptions_listen(const Request& request) {
  if (!request.meta || !request.subscriptions)
    throw RpcError{rpc_code::k_method_not_found, "method not found: subscriptions/listen"};
  const auto notifications = request.params.find("notifications");
  const auto requested = notifications == request.params.end()
                             ? std::nullopt
                             : SubscriptionFilter::from_json(*notifications);
  if (!requested)
    throw invalid_params(
        "invalid params: 'notifications' is required and must be a SubscriptionFilter");
  SubscriptionSupport support;  // descriptors are not reloaded: lists never change
  support.resource_updates =
      !request.catalog.resources.empty() || !request.catalog.resource_templates.empty();
  SubscriptionFilter filter = honored_filter(*requested, support);

  Session& session = request.session;
  const json id = request.id;
  if (filter.empty()) {
    session.send(SubscriptionHub::acknowledgement(id, filter), id);
    return json{{"_meta", {{k_subscription_id, id}}}};
  }
  const auto opened = request.subscriptions->open(
      &session, id, std::move(filter),
      [&session, id](const json& message) { session.send(message, id); });
  if (opened == SubscriptionHub::Opened::full)
    throw RpcError{rpc_code::k_internal_error, "Subscription limit reached"};
  if (opened == SubscriptionHub::Opened::duplicate)
    throw RpcError{rpc_code::k_invalid_request,
                   "invalid request: listen " + clip(id.dump()) + " is already open"};
  spdlog::debug("listen {} open ({} in all)", clip(id.dump()), request.subscriptions->size());
  return std::nullopt;
}

}  // namespace detail

}  // namespace mcpd::core
