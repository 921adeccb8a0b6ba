#include "core/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <regex>
#include <sstream>

#include "core/config/error.hpp"

extern char** environ;

namespace mcpd::core {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Accepts spdlog's names plus "warning" and "fatal"; returns the spdlog name or "".
std::string normalize_level(const std::string& text) {
  const std::string level = lower(text);
  if (level == "warning") return "warn";
  if (level == "fatal") return "critical";
  for (const char* name : {"trace", "debug", "info", "warn", "error", "critical", "off"})
    if (level == name) return level;
  return {};
}

constexpr const char* k_level_names = "trace, debug, info, warning, error, critical or off";

std::optional<long long> parse_integer(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  try {
    const long long value = std::stoll(text, &used, 10);
    if (used != text.size()) return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string read_text_file(const fs::path& file, const std::string& what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(what + ": cannot read " + file.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool valid_database_url(const std::string& url) {
  return url.rfind("sqlite://", 0) == 0 || url.rfind("postgresql://", 0) == 0 ||
         url.rfind("postgres://", 0) == 0;
}

bool valid_http_url(const std::string& url) {
  return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
         (url.rfind("https://", 0) == 0 && url.size() > 8);
}

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
           {"name", "title", "version", "environment", "instructions", "listen", "stateless"});
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

// --- environment -----------------------------------------------------------------------

// The variable's value, or nullopt when it is unset or empty (`PORT=` means "not set").
std::optional<std::string> get(const Environment& env, const char* name) {
  const auto it = env.find(name);
  if (it == env.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

int env_positive(const std::string& text, const char* name) {
  const auto value = parse_integer(text);
  if (!value || *value < 1 || *value > INT_MAX)
    throw Error(std::string(name) + ": expected a positive integer, got '" + text + "'");
  return static_cast<int>(*value);
}

std::string mask(const std::string& secret) {
  return secret.empty() ? "" : "********";
}

}  // namespace

Environment current_environment() {
  Environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string text = *entry;
    const auto eq = text.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

std::string Settings::listen() const {
  const bool v6 = listen_host.find(':') != std::string::npos;
  return (v6 ? "[" + listen_host + "]" : listen_host) + ":" + std::to_string(listen_port);
}

nlohmann::json Settings::describe() const {
  json upstream_list = json::object();
  for (const auto& [upstream, u] : upstreams) {
    upstream_list[upstream] = {
        {"base_url", u.base_url},       {"auth_scheme", u.auth_scheme},
        {"api_key_env", u.api_key_env}, {"api_key_file", u.api_key_file.string()},
        {"api_key", mask(u.api_key)},   {"timeout_ms", u.timeout.count()},
        {"max_retries", u.max_retries}, {"pool_size", u.pool_size},
        {"health_path", u.health_path}, {"ca_file", u.ca_file.string()}};
  }
  json tool_paths = json::array();
  for (const auto& p : tools) tool_paths.push_back(p.string());
  return {
      {"server",
       {{"name", name},
        {"title", title},
        {"version", version},
        {"environment", environment},
        {"instructions", instructions},
        {"listen", listen()},
        {"stateless", stateless}}},
      {"database", database},
      {"tools", tool_paths},
      {"auth",
       {{"require", require_auth},
        {"jwt",
         {{"enabled", jwt.enabled},
          {"algorithm", jwt.algorithm},
          {"secret_env", jwt.secret_env},
          {"secret", mask(jwt.secret)},
          {"public_key_file", jwt.public_key_file.string()},
          {"issuer", jwt.issuer},
          {"audience", jwt.audience},
          {"resource", jwt.resource}}}}},
      {"rate_limit",
       {{"requests", rate_limit_requests},
        {"window_seconds", rate_limit_window.count()},
        {"burst", rate_limit_burst > 0 ? rate_limit_burst : rate_limit_requests}}},
      {"allowed_origins", allowed_origins},
      {"log", {{"level", log_level}, {"format", log_format}}},
      {"upstreams", upstream_list},
      {"exec",
       {{"scratch_dir", scratch_dir.string()},
        {"scratch_max_age_seconds", scratch_max_age.count()},
        {"scratch_sweep_interval_seconds", scratch_sweep_interval.count()}}},
      {"debug", debug},
      {"token", mask(token)},
      {"config_file", config_file.string()},
  };
}

void parse_listen(const std::string& text, const std::string& what, std::string& host,
                  std::uint16_t& port) {
  auto bad = [&] { throw Error(what + ": expected HOST:PORT, got '" + text + "'"); };
  std::string h;
  std::string p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') bad();
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) bad();
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  const auto number = parse_integer(p);
  if (h.empty() || !number || *number < 0 || *number > 65535) bad();
  host = h;
  port = static_cast<std::uint16_t>(*number);
}

bool parse_bool(const std::string& text, const std::string& what) {
  const std::string value = lower(text);
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  throw Error(what + ": expected true or false, got '" + text + "'");
}

void apply_config(Settings& s, const nlohmann::json& config, const fs::path& file) {
  const ConfigReader r(file);
  r.object(config, "",
           {"$schema", "server", "database", "tools", "auth", "rate_limit", "allowed_origins",
            "log", "upstreams", "exec"});
  if (config.contains("server")) read_server(s, config["server"], r);
  if (config.contains("database")) {
    s.database = r.string(config["database"], "database", true);
    if (!valid_database_url(s.database))
      r.fail("database", "expected a sqlite:// or postgresql:// URL");
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

void apply_environment(Settings& s, const Environment& env) {
  if (auto v = get(env, "AUTH_ENABLED")) s.require_auth = parse_bool(*v, "AUTH_ENABLED");
  if (auto v = get(env, "MCP_REQUIRE_AUTH")) s.require_auth = parse_bool(*v, "MCP_REQUIRE_AUTH");
  if (auto v = get(env, "MCP_HOST")) s.listen_host = *v;
  if (auto v = get(env, "PORT")) {
    const auto port = parse_integer(*v);
    if (!port || *port < 0 || *port > 65535)
      throw Error("PORT: expected a port number (0-65535), got '" + *v + "'");
    s.listen_port = static_cast<std::uint16_t>(*port);
  }
  if (auto v = get(env, "DEBUG")) s.debug = parse_bool(*v, "DEBUG");
  if (s.debug) s.log_level = "debug";
  if (auto v = get(env, "LOG_LEVEL")) {
    s.log_level = normalize_level(*v);
    if (s.log_level.empty())
      throw Error("LOG_LEVEL: expected " + std::string(k_level_names) + ", got '" + *v + "'");
  }
  if (auto v = get(env, "LOG_FORMAT")) {
    s.log_format = lower(*v);
    if (s.log_format != "text" && s.log_format != "json")
      throw Error("LOG_FORMAT: expected text or json, got '" + *v + "'");
  }
  if (auto v = get(env, "ENVIRONMENT")) s.environment = *v;
  if (auto v = get(env, "RATE_LIMIT_REQUESTS"))
    s.rate_limit_requests = env_positive(*v, "RATE_LIMIT_REQUESTS");
  if (auto v = get(env, "RATE_LIMIT_WINDOW"))
    s.rate_limit_window = std::chrono::seconds(env_positive(*v, "RATE_LIMIT_WINDOW"));
  if (auto v = get(env, "RATE_LIMIT_BURST"))
    s.rate_limit_burst = env_positive(*v, "RATE_LIMIT_BURST");
  if (get(env, "JWT_SECRET") && !s.jwt.enabled) s.jwt.enabled = true;  // HS256 from JWT_SECRET
  if (auto v = get(env, "DJANGO_BASE_URL")) {
    if (!valid_http_url(*v))
      throw Error("DJANGO_BASE_URL: expected an http:// or https:// URL, got '" + *v + "'");
    const bool is_new = s.upstreams.find("django") == s.upstreams.end();
    auto& django = s.upstreams["django"];
    django.base_url = *v;
    if (is_new) django.auth_scheme = "Api-Key";
  }
  if (auto it = s.upstreams.find("django"); it != s.upstreams.end() && get(env, "DJANGO_API_KEY")) {
    // DJANGO_API_KEY is the django upstream's key unless the config names another source.
    if (it->second.api_key_env.empty() && it->second.api_key_file.empty())
      it->second.api_key_env = "DJANGO_API_KEY";
  }
  if (auto v = get(env, "MCPD_DATABASE_URL")) {
    s.database = *v;
  } else if (auto w = get(env, "DATABASE_URL")) {
    s.database = *w;
  }
  if (!s.database.empty() && !valid_database_url(s.database)) {
    const char* name = get(env, "MCPD_DATABASE_URL") ? "MCPD_DATABASE_URL"
                       : get(env, "DATABASE_URL")    ? "DATABASE_URL"
                                                     : "database";
    throw Error(std::string(name) + ": expected a sqlite:// or postgresql:// URL");
  }
  if (auto v = get(env, "MCPD_TOKEN")) s.token = *v;
  if (auto v = get(env, "MCPD_STATE_KEY")) {
    if (v->size() < 32) throw Error("MCPD_STATE_KEY: expected at least 32 bytes");
    s.state_key = *v;
  }
}

void apply_flags(Settings& s, const SettingsFlags& flags) {
  if (!flags.tools.empty()) s.tools = flags.tools;
  if (flags.database) {
    if (!valid_database_url(*flags.database))
      throw Error("--database: expected a sqlite:// or postgresql:// URL, got '" + *flags.database +
                  "'");
    s.database = *flags.database;
  }
  if (flags.listen) parse_listen(*flags.listen, "--listen", s.listen_host, s.listen_port);
  if (flags.no_auth) s.require_auth = false;
  if (flags.stateless) s.stateless = true;
  if (!flags.allowed_origins.empty()) s.allowed_origins = flags.allowed_origins;
}

void finish_settings(Settings& s, const Environment& env) {
  if (s.version.empty()) s.version = MCPD_VERSION;

  if (s.jwt.enabled) {
    if (s.jwt.algorithm == "HS256") {
      const auto secret = get(env, s.jwt.secret_env.c_str());
      if (!secret)
        throw Error("auth.jwt.secret_env: environment variable " + s.jwt.secret_env +
                    " is not set (HS256 needs a shared secret)");
      if (secret->size() < 32) throw Error(s.jwt.secret_env + ": must be at least 32 characters");
      s.jwt.secret = *secret;
    } else if (s.jwt.public_key_file.empty()) {
      throw Error("auth.jwt.public_key_file: required for RS256");
    }
    if (s.jwt.algorithm == "HS256" && !s.jwt.public_key_file.empty())
      throw Error("auth.jwt.public_key_file: only used with \"algorithm\": \"RS256\"");
  }

  for (auto& [name, u] : s.upstreams) {
    const std::string key = "upstreams." + name;
    if (u.base_url.empty()) throw Error(key + ".base_url: required");
    while (u.base_url.size() > 1 && u.base_url.back() == '/') u.base_url.pop_back();
    if (!u.api_key_env.empty() && !u.api_key_file.empty())
      throw Error(key + ": api_key_env and api_key_file are exclusive");
    if (!u.api_key_env.empty()) {
      // A named source that gives nothing is a mistake to report now, not a silent call
      // without credentials later.
      auto v = get(env, u.api_key_env.c_str());
      if (!v || v->empty())
        throw Error(key + ".api_key_env: the environment variable " + u.api_key_env +
                    " is not set");
      u.api_key = *v;
    } else if (!u.api_key_file.empty()) {
      u.api_key = read_text_file(u.api_key_file, key + ".api_key_file");
      while (!u.api_key.empty() && (u.api_key.back() == '\n' || u.api_key.back() == '\r'))
        u.api_key.pop_back();
    }
  }
}

Settings load_settings(const SettingsFlags& flags, const Environment& env) {
  Settings settings;
  if (flags.config) {
    apply_config_file(settings, *flags.config);
  } else if (auto file = get(env, "MCPD_CONFIG")) {
    apply_config_file(settings, *file);
  }
  apply_environment(settings, env);
  apply_flags(settings, flags);
  finish_settings(settings, env);
  return settings;
}

}  // namespace mcpd::core
