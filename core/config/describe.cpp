// What the settings look like from outside: describe() (secrets masked) and the flat list with
// origins behind `mcpd config show`.
#include <functional>

#include "core/config/config.hpp"
#include "core/util/url.hpp"

namespace mcpd::core {

namespace {

using ojson = nlohmann::ordered_json;

// A secret is never shown: "***" when it is set, null when it is not.
ojson mask(const std::string& secret) {
  if (secret.empty()) return nullptr;
  return "***";
}

ojson describe_upstream(const UpstreamSettings& u) {
  // A base URL with credentials is refused when upstreams are built; never show them meanwhile.
  const std::string public_url = redact_url(u.base_url);
  return {{"base_url", public_url},       {"auth_scheme", u.auth_scheme},
          {"api_key_env", u.api_key_env}, {"api_key_file", u.api_key_file.string()},
          {"api_key", mask(u.api_key)},   {"timeout_ms", u.timeout.count()},
          {"max_retries", u.max_retries}, {"pool_size", u.pool_size},
          {"health_path", u.health_path}, {"ca_file", u.ca_file.string()}};
}

ojson describe_server(const Settings& s) {
  return {{"name", s.name},
          {"title", s.title},
          {"version", s.version},
          {"environment", s.environment},
          {"instructions", s.instructions},
          {"listen", s.listen()},
          {"stateless", s.stateless},
          {"cache_ttl_ms", s.cache_ttl.count()},
          {"state_key_file", s.state_key_file.string()},
          {"state_key", mask(s.state_key)},
          {"port_file", s.port_file.string()},
          {"max_connections", s.max_connections},
          {"io_threads", s.io_threads},
          {"timeouts_ms",
           {{"header", s.http_timeouts.header.count()},
            {"body", s.http_timeouts.body.count()},
            {"idle", s.http_timeouts.idle.count()},
            {"write", s.http_timeouts.write.count()}}}};
}

ojson describe_auth(const Settings& s) {
  const JwtSettings& jwt = s.jwt;
  return {{"require", s.require_auth},
          {"token_pepper", mask(s.token_pepper)},
          {"jwt",
           {{"enabled", jwt.enabled},
            {"algorithm", jwt.algorithm},
            {"secret_env", jwt.secret_env},
            {"secret", mask(jwt.secret)},
            {"public_key_file", jwt.public_key_file.string()},
            {"issuer", jwt.issuer},
            {"audience", jwt.audience},
            {"resource", jwt.resource}}}};
}

}  // namespace

std::string Origin::text() const {
  if (kind == Kind::defaults) return "default";
  return std::string(kind_name()) + " " + source;
}

const char* Origin::kind_name() const {
  switch (kind) {
    case Kind::file:
      return "file";
    case Kind::env:
      return "env";
    case Kind::flag:
      return "flag";
    case Kind::defaults:
      break;
  }
  return "default";
}

std::string Settings::listen() const {
  const bool v6 = listen_host.find(':') != std::string::npos;
  return (v6 ? "[" + listen_host + "]" : listen_host) + ":" + std::to_string(listen_port);
}

Origin Settings::origin(const std::string& key) const {
  const auto it = origins.find(key);
  return it == origins.end() ? Origin{} : it->second;
}

nlohmann::ordered_json Settings::describe() const {
  ojson upstream_list = ojson::object();
  for (const auto& [upstream, u] : upstreams) upstream_list[upstream] = describe_upstream(u);
  // The built-in ranges first: what is refused, not only what was configured.
  std::vector<std::string> upstream_deny_rules = k_builtin_upstream_deny;
  upstream_deny_rules.insert(upstream_deny_rules.end(), upstream_deny.begin(), upstream_deny.end());
  ojson tool_paths = ojson::array();
  for (const auto& p : tools) tool_paths.push_back(p.string());
  return {
      {"server", describe_server(*this)},
      {"database", redact_url(database)},
      {"tools", tool_paths},
      {"auth", describe_auth(*this)},
      {"rate_limit",
       {{"requests", rate_limit_requests},
        {"window_seconds", rate_limit_window.count()},
        {"burst", rate_limit_burst > 0 ? rate_limit_burst : rate_limit_requests}}},
      {"allowed_origins", allowed_origins},
      {"log", {{"level", log_level}, {"format", log_format}}},
      {"upstreams", upstream_list},
      {"upstream", {{"deny", upstream_deny_rules}, {"allow", upstream_allow}}},
      {"exec",
       {{"scratch_dir", scratch_dir.string()},
        {"scratch_max_age_seconds", scratch_max_age.count()},
        {"scratch_sweep_interval_seconds", scratch_sweep_interval.count()}}},
      {"debug", debug},
      {"token", mask(token)},
      {"config_file", config_file.string()},
  };
}

std::vector<ShownSetting> show_settings(const Settings& settings) {
  std::vector<ShownSetting> shown;
  std::function<void(const ojson&, const std::string&)> walk = [&](const ojson& value,
                                                                   const std::string& key) {
    if (value.is_object() && !value.empty()) {
      for (const auto& [name, member] : value.items())
        walk(member, key.empty() ? name : key + "." + name);
      return;
    }
    shown.push_back({key, value, settings.origin(key)});
  };
  walk(settings.describe(), "");
  return shown;
}

}  // namespace mcpd::core
