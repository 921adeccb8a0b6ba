// The config file layer (mcpd.json(5)): typed reads with errors naming "config FILE: key".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <regex>
#include <sstream>

#include "core/config/config.hpp"
#include "core/config/config_detail.hpp"
#include "core/config/error.hpp"

namespace mcpd::core {

namespace {
using json = nlohmann::json;
namespace fs = std::filesystem;
}  // namespace

namespace config_detail {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string normalize_level(const std::string& text) {
  const std::string level = lower(text);
  if (level == "warning") return "warn";
  if (level == "fatal") return "critical";
  for (const char* name : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    if (level == name) return level;
  return {};
}

std::optional<long long> parse_integer(const std::string& text) {
  // Decimal digits with an optional '-', nothing else: no blanks, no '+', no "0x" (stoll would
  // take " 4" and "+4", so a stray space in an environment file went unnoticed).
  long long value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value, 10);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

bool valid_http_url(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
         (url.rfind("https://", 0) == 0 && url.size() > 8);
}

std::string read_text_file(const fs::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(what + ": cannot read " + file.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string read_secret_file(const fs::path& file, const std::string& what) {
  std::string text = read_text_file(file, what);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::optional<std::string> get(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

void record_file_origins(Settings& s, const json& config, const fs::path& file) {
  const Origin origin = Origin::from_file(file.string());
  std::function<void(const json&, const std::string&)> walk = [&](const json& value,
                                                                  const std::string& key) {
    if (value.is_object() && !value.empty()) {
      for (const auto& [name, member] : value.items())
        walk(member, key.empty() ? name : key + "." + name);
    } else if (!key.empty() && key != "$schema") {
      s.origins[key] = origin;
    }
  };
  walk(config, "");
  if (config.contains("auth") && config["auth"].contains("jwt"))
    s.origins["auth.jwt.enabled"] = origin;
}

}  // namespace config_detail

namespace {

using namespace config_detail;

// Reads typed values out of the config file, naming "config FILE: key.path" in errors.
class ConfigReader {
 public:
  explicit ConfigReader(const fs::path& file) : m_file(file) {}

  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw Error("config " + m_file.string() + ": " + key + ": " + message);
  }

  // Checks `value` is an object with only `allowed` keys.
  void object(const json& value, const std::string& key,
              std::initializer_list<const char*> allowed) const {
    if (!value.is_object()) fail(key.empty() ? "(top level)" : key, "expected an object");
    for (const auto& item : value.items()) {
      const std::string& name = item.key();  // a named variable: lambdas may capture it
      const bool known =
          std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; });
      if (!known) fail(join(key, name), "unknown key");
    }
  }

  std::string string(const json& value, const std::string& key, bool non_empty = false) const {
    if (!value.is_string()) fail(key, "expected a string");
    auto text = value.get<std::string>();
    if (non_empty && text.empty()) fail(key, "must not be empty");
    return text;
  }

  bool boolean(const json& value, const std::string& key) const {
    if (!value.is_boolean()) fail(key, "expected true or false");
    return value.get<bool>();
  }

  // An integer in [minimum, INT_MAX]; floats such as 100.0 are refused.
  int integer(const json& value, const std::string& key, int minimum) const {
    const char* expected =
        minimum > 0 ? "expected a positive integer" : "expected a non-negative integer";
    if (!value.is_number_integer()) fail(key, expected);
    if (value.is_number_unsigned() &&
        value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT_MAX))
      fail(key, "too large");
    const auto number = value.get<std::int64_t>();
    if (number < minimum) fail(key, expected);
    if (number > INT_MAX) fail(key, "too large");
    return static_cast<int>(number);
  }

  std::vector<std::string> strings(const json& value, const std::string& key) const {
    if (!value.is_array()) fail(key, "expected an array of strings");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i)
      out.push_back(string(value[i], key + "[" + std::to_string(i) + "]", true));
    return out;
  }

  fs::path path(const json& value, const std::string& key) const {
    fs::path p = string(value, key, true);
    return p.is_absolute() ? p : (m_file.parent_path() / p).lexically_normal();
  }

  static std::string join(const std::string& key, const std::string& name) {
    return key.empty() ? name : key + "." + name;
  }

 private:
  fs::path m_file;
};

void read_server(Settings& s, const json& server, const ConfigReader& r) {
  r.object(server, "server",
           {"name", "title", "version", "environment", "instructions", "listen", "stateless",
            "cache_ttl_ms", "state_key_file", "max_connections", "io_threads", "timeouts_ms"});
  if (server.contains("name")) s.name = r.string(server["name"], "server.name", true);
  if (server.contains("title")) s.title = r.string(server["title"], "server.title");
  if (server.contains("version")) s.version = r.string(server["version"], "server.version", true);
  if (server.contains("environment"))
    s.environment = r.string(server["environment"], "server.environment", true);
  if (server.contains("instructions"))
    s.instructions = r.string(server["instructions"], "server.instructions");
  if (server.contains("listen")) {
    const auto text = r.string(server["listen"], "server.listen", true);
    try {
      parse_listen(text, "server.listen", s.listen_host, s.listen_port);
    } catch (const Error&) {
      r.fail("server.listen", "expected HOST:PORT, got '" + text + "'");
    }
  }
  if (server.contains("stateless"))
    s.stateless = r.boolean(server["stateless"], "server.stateless");
  if (server.contains("cache_ttl_ms"))
    s.cache_ttl =
        std::chrono::milliseconds(r.integer(server["cache_ttl_ms"], "server.cache_ttl_ms", 0));
  if (server.contains("state_key_file"))
    s.state_key_file = r.path(server["state_key_file"], "server.state_key_file");
  if (server.contains("max_connections"))
    s.max_connections = r.integer(server["max_connections"], "server.max_connections", 0);
  if (server.contains("io_threads")) {
    s.io_threads = r.integer(server["io_threads"], "server.io_threads", 0);
    if (s.io_threads > k_max_io_threads)
      r.fail("server.io_threads", "at most " + std::to_string(k_max_io_threads));
  }
  if (server.contains("timeouts_ms")) {
    const json& timeouts = server["timeouts_ms"];
    r.object(timeouts, "server.timeouts_ms", {"header", "body", "idle", "write"});
    auto read = [&](const char* name, std::chrono::milliseconds& target) {
      if (timeouts.contains(name))
        target = std::chrono::milliseconds(
            r.integer(timeouts[name], std::string("server.timeouts_ms.") + name, 1));
    };
    read("header", s.http_timeouts.header);
    read("body", s.http_timeouts.body);
    read("idle", s.http_timeouts.idle);
    read("write", s.http_timeouts.write);
  }
}

void read_auth(Settings& s, const json& auth, const ConfigReader& r) {
  r.object(auth, "auth", {"require", "jwt"});
  if (auth.contains("require")) s.require_auth = r.boolean(auth["require"], "auth.require");
  if (!auth.contains("jwt")) return;
  const json& jwt = auth["jwt"];
  r.object(jwt, "auth.jwt",
           {"algorithm", "secret_env", "public_key_file", "issuer", "audience", "resource"});
  s.jwt.enabled = true;
  if (jwt.contains("algorithm")) {
    s.jwt.algorithm = r.string(jwt["algorithm"], "auth.jwt.algorithm");
    if (s.jwt.algorithm != "HS256" && s.jwt.algorithm != "RS256")
      r.fail("auth.jwt.algorithm", "expected \"HS256\" or \"RS256\"");
  }
  if (jwt.contains("secret_env"))
    s.jwt.secret_env = r.string(jwt["secret_env"], "auth.jwt.secret_env", true);
  if (jwt.contains("public_key_file"))
    s.jwt.public_key_file = r.path(jwt["public_key_file"], "auth.jwt.public_key_file");
  if (jwt.contains("issuer")) s.jwt.issuer = r.string(jwt["issuer"], "auth.jwt.issuer");
  if (jwt.contains("audience")) s.jwt.audience = r.string(jwt["audience"], "auth.jwt.audience");
  if (jwt.contains("resource")) {
    s.jwt.resource = r.string(jwt["resource"], "auth.jwt.resource");
    const auto& url = s.jwt.resource;
    if ((url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) ||
        url.find('#') != std::string::npos || url.find_first_of(" \"\\") != std::string::npos)
      r.fail("auth.jwt.resource", "expected an absolute http(s) URL without a fragment");
  }
}

void read_upstream(UpstreamSettings& u, const json& value, const std::string& key,
                   const ConfigReader& r) {
  r.object(value, key,
           {"base_url", "auth_scheme", "api_key_env", "api_key_file", "timeout_ms", "max_retries",
            "pool_size", "health_path", "ca_file"});
  auto field = [&](const char* name) { return key + "." + name; };
  if (value.contains("base_url")) {
    u.base_url = r.string(value["base_url"], field("base_url"), true);
    if (!valid_http_url(u.base_url))
      r.fail(field("base_url"), "expected an http:// or https:// URL");
  }
  if (value.contains("auth_scheme"))
    u.auth_scheme = r.string(value["auth_scheme"], field("auth_scheme"), true);
  if (value.contains("api_key_env"))
    u.api_key_env = r.string(value["api_key_env"], field("api_key_env"), true);
  if (value.contains("api_key_file"))
    u.api_key_file = r.path(value["api_key_file"], field("api_key_file"));
  if (value.contains("timeout_ms"))
    u.timeout = std::chrono::milliseconds(r.integer(value["timeout_ms"], field("timeout_ms"), 1));
  if (value.contains("max_retries"))
    u.max_retries = r.integer(value["max_retries"], field("max_retries"), 0);
  if (value.contains("pool_size"))
    u.pool_size = r.integer(value["pool_size"], field("pool_size"), 1);
  if (value.contains("health_path")) {
    u.health_path = r.string(value["health_path"], field("health_path"), true);
    if (u.health_path.front() != '/') r.fail(field("health_path"), "must start with '/'");
  }
  if (value.contains("ca_file")) u.ca_file = r.path(value["ca_file"], field("ca_file"));
}

void read_upstreams(Settings& s, const json& upstreams, const ConfigReader& r) {
  if (!upstreams.is_object()) r.fail("upstreams", "expected an object");
  static const std::regex k_name("^[A-Za-z0-9_-]{1,64}$");
  for (const auto& [name, value] : upstreams.items()) {
    const std::string key = "upstreams." + name;
    if (!std::regex_match(name, k_name)) r.fail(key, "upstream names use A-Z a-z 0-9 _ -");
    read_upstream(s.upstreams[name], value, key, r);
  }
}

void read_exec(Settings& s, const json& exec, const ConfigReader& r) {
  r.object(exec, "exec",
           {"scratch_dir", "scratch_max_age_seconds", "scratch_sweep_interval_seconds"});
  if (exec.contains("scratch_dir")) s.scratch_dir = r.path(exec["scratch_dir"], "exec.scratch_dir");
  if (exec.contains("scratch_max_age_seconds"))
    s.scratch_max_age = std::chrono::seconds(
        r.integer(exec["scratch_max_age_seconds"], "exec.scratch_max_age_seconds", 1));
  if (exec.contains("scratch_sweep_interval_seconds"))
    s.scratch_sweep_interval = std::chrono::seconds(r.integer(
        exec["scratch_sweep_interval_seconds"], "exec.scratch_sweep_interval_seconds", 1));
}

}  // namespace

void apply_config(Settings& s, const nlohmann::json& config, const fs::path& file) {
  const ConfigReader r(file);
  r.object(config, "",
           {"$schema", "server", "database", "tools", "auth", "rate_limit", "allowed_origins",
            "log", "upstreams", "upstream", "exec"});
  if (config.contains("server")) read_server(s, config["server"], r);
  if (config.contains("database")) {
    // The scheme is checked once the URL is final (finish_settings), naming this file.
    s.database = r.string(config["database"], "database", true);
  }
  if (config.contains("tools")) {
    const json& tools = config["tools"];
    if (!tools.is_array()) r.fail("tools", "expected an array of paths");
    s.tools.clear();
    for (std::size_t i = 0; i < tools.size(); ++i)
      s.tools.push_back(r.path(tools[i], "tools[" + std::to_string(i) + "]"));
  }
  if (config.contains("auth")) read_auth(s, config["auth"], r);
  if (config.contains("rate_limit")) {
    const json& rl = config["rate_limit"];
    r.object(rl, "rate_limit", {"requests", "window_seconds", "burst"});
    if (rl.contains("requests"))
      s.rate_limit_requests = r.integer(rl["requests"], "rate_limit.requests", 1);
    if (rl.contains("window_seconds"))
      s.rate_limit_window =
          std::chrono::seconds(r.integer(rl["window_seconds"], "rate_limit.window_seconds", 1));
    if (rl.contains("burst")) s.rate_limit_burst = r.integer(rl["burst"], "rate_limit.burst", 1);
  }
  if (config.contains("allowed_origins"))
    s.allowed_origins = r.strings(config["allowed_origins"], "allowed_origins");
  if (config.contains("log")) {
    const json& log = config["log"];
    r.object(log, "log", {"level", "format"});
    if (log.contains("level")) {
      const auto text = r.string(log["level"], "log.level");
      s.log_level = normalize_level(text);
      if (s.log_level.empty()) r.fail("log.level", std::string("expected ") + k_level_names);
    }
    if (log.contains("format")) {
      s.log_format = r.string(log["format"], "log.format");
      if (s.log_format != "text" && s.log_format != "json")
        r.fail("log.format", "expected \"text\" or \"json\"");
    }
  }
  if (config.contains("upstreams")) read_upstreams(s, config["upstreams"], r);
  if (config.contains("exec")) read_exec(s, config["exec"], r);
  if (config.contains("upstream")) {
    const json& guard = config["upstream"];
    r.object(guard, "upstream", {"deny", "allow"});
    if (guard.contains("deny")) s.upstream_deny = r.strings(guard["deny"], "upstream.deny");
    if (guard.contains("allow")) s.upstream_allow = r.strings(guard["allow"], "upstream.allow");
  }
  record_file_origins(s, config, file);
}

void apply_config_file(Settings& s, const fs::path& file) {
  const std::string text = read_text_file(file, "config");
  json config;
  try {
    config = json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into line:column, as editors show it.
    std::size_t line = 1;
    std::size_t column = 1;
    const std::size_t end = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string reason = e.what();
    if (const auto pos = reason.find("syntax error"); pos != std::string::npos)
      reason = reason.substr(pos);
    throw Error("config " + file.string() + ":" + std::to_string(line) + ":" +
                std::to_string(column) + ": invalid JSON: " + reason);
  }
  apply_config(s, config, file);
  s.config_file = file;
}

}  // namespace mcpd::core
