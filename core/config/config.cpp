// Settings: the environment and flag layers, defaults that depend on the environment, the
// resolution of secrets, and the cross-checks. The config file layer is config_file.cpp.
#include "core/config/config.hpp"

#include <unistd.h>

#include <climits>

#include "core/config/config_detail.hpp"
#include "core/config/error.hpp"
#include "core/util/url.hpp"

extern char** environ;

namespace mcpd::core {

namespace {

namespace fs = std::filesystem;
using namespace config_detail;

constexpr std::size_t k_min_state_key_length = 32;

int env_positive(const std::string& text, const char* name) {
  const auto value = parse_integer(text);
  if (!value || *value < 1 || *value > INT_MAX)
    throw Error(std::string(name) + ": expected a positive integer, got '" + text + "'");
  return static_cast<int>(*value);
}

// Reads the variable into `target` through `convert` and records it as the setting's origin.
class EnvLayer {
 public:
  EnvLayer(Settings& settings, const Environment& env) : m_settings(settings), m_env(env) {}

  std::optional<std::string> get(const char* name) const { return config_detail::get(m_env, name); }

  template <class Convert>
  bool apply(const char* name, const char* key, Convert convert) {
    const auto value = get(name);
    if (!value) return false;
    convert(*value);
    m_settings.origins[key] = Origin::from_env(name);
    return true;
  }

 private:
  Settings& m_settings;
  const Environment& m_env;
};

void apply_server_environment(Settings& s, EnvLayer& e) {
  const bool host =
      e.apply("MCP_HOST", "server.listen", [&](const std::string& v) { s.listen_host = v; });
  const bool port = e.apply("PORT", "server.listen", [&](const std::string& v) {
    const auto number = parse_integer(v);
    if (!number || *number < 0 || *number > 65535)
      throw Error("PORT: expected a port number (0-65535), got '" + v + "'");
    s.listen_port = static_cast<std::uint16_t>(*number);
  });
  if (host && port) s.origins["server.listen"] = Origin::from_env("MCP_HOST, PORT");
  e.apply("ENVIRONMENT", "server.environment", [&](const std::string& v) { s.environment = v; });
  e.apply("MCPD_CACHE_TTL_MS", "server.cache_ttl_ms", [&](const std::string& v) {
    const auto ttl = parse_integer(v);
    if (!ttl || *ttl < 0)
      throw Error("MCPD_CACHE_TTL_MS: expected a non-negative integer, got '" + v + "'");
    s.cache_ttl = std::chrono::milliseconds(*ttl);
  });
  e.apply("MCPD_STATE_KEY_FILE", "server.state_key_file",
          [&](const std::string& v) { s.state_key_file = v; });
  e.apply("MCPD_PORT_FILE", "server.port_file", [&](const std::string& v) { s.port_file = v; });
  e.apply("MCPD_MAX_CONNECTIONS", "server.max_connections", [&](const std::string& v) {
    const auto cap = parse_integer(v);
    if (!cap || *cap < 0 || *cap > INT_MAX)
      throw Error("MCPD_MAX_CONNECTIONS: expected a non-negative integer, got '" + v + "'");
    s.max_connections = static_cast<int>(*cap);
  });
  e.apply("MCPD_IO_THREADS", "server.io_threads", [&](const std::string& v) {
    const auto threads = parse_integer(v);
    if (!threads || *threads < 0 || *threads > k_max_io_threads)
      throw Error("MCPD_IO_THREADS: expected an integer from 0 to " +
                  std::to_string(k_max_io_threads) + ", got '" + v + "'");
    s.io_threads = static_cast<int>(*threads);
  });
}

void apply_log_environment(Settings& s, EnvLayer& e) {
  e.apply("DEBUG", "debug", [&](const std::string& v) { s.debug = parse_bool(v, "DEBUG"); });
  if (s.debug) {
    s.log_level = "debug";
    s.origins["log.level"] = Origin::from_env("DEBUG");
  }
  e.apply("LOG_LEVEL", "log.level", [&](const std::string& v) {
    s.log_level = normalize_level(v);
    if (s.log_level.empty())
      throw Error("LOG_LEVEL: expected " + std::string(k_level_names) + ", got '" + v + "'");
  });
  e.apply("LOG_FORMAT", "log.format", [&](const std::string& v) {
    s.log_format = lower(v);
    if (s.log_format != "text" && s.log_format != "json")
      throw Error("LOG_FORMAT: expected text or json, got '" + v + "'");
  });
}

void apply_auth_environment(Settings& s, EnvLayer& e) {
  for (const char* name : {"AUTH_ENABLED", "MCP_REQUIRE_AUTH"})  // the latter wins
    e.apply(name, "auth.require",
            [&](const std::string& v) { s.require_auth = parse_bool(v, name); });
  e.apply("RATE_LIMIT_REQUESTS", "rate_limit.requests", [&](const std::string& v) {
    s.rate_limit_requests = env_positive(v, "RATE_LIMIT_REQUESTS");
  });
  e.apply("RATE_LIMIT_WINDOW", "rate_limit.window_seconds", [&](const std::string& v) {
    s.rate_limit_window = std::chrono::seconds(env_positive(v, "RATE_LIMIT_WINDOW"));
  });
  e.apply("RATE_LIMIT_BURST", "rate_limit.burst",
          [&](const std::string& v) { s.rate_limit_burst = env_positive(v, "RATE_LIMIT_BURST"); });
  if (e.get("JWT_SECRET") && !s.jwt.enabled) {  // HS256 from JWT_SECRET
    s.jwt.enabled = true;
    s.origins["auth.jwt.enabled"] = Origin::from_env("JWT_SECRET");
  }
  e.apply("MCPD_TOKEN", "token", [&](const std::string& v) { s.token = v; });
}

// DJANGO_BASE_URL defines the upstream "django" on top of the config file (PRODUCT §3).
void apply_django_environment(Settings& s, EnvLayer& e) {
  e.apply("DJANGO_BASE_URL", "upstreams.django.base_url", [&](const std::string& v) {
    if (!valid_http_url(v))
      throw Error("DJANGO_BASE_URL: expected an http:// or https:// URL, got '" + redact_url(v) +
                  "'");
    const bool is_new = s.upstreams.find("django") == s.upstreams.end();
    auto& django = s.upstreams["django"];
    django.base_url = v;
    if (is_new) django.auth_scheme = "Api-Key";
  });
  if (auto it = s.upstreams.find("django"); it != s.upstreams.end() && e.get("DJANGO_API_KEY")) {
    // DJANGO_API_KEY is the django upstream's key unless the config names another source.
    if (it->second.api_key_env.empty() && it->second.api_key_file.empty()) {
      it->second.api_key_env = "DJANGO_API_KEY";
      s.origins["upstreams.django.api_key_env"] = Origin::from_env("DJANGO_API_KEY");
    }
  }
}

std::string origin_name(const Origin& origin, const std::string& key) {
  switch (origin.kind) {
    case Origin::Kind::file:
      return "config " + origin.source + ": " + key;
    case Origin::Kind::env:
    case Origin::Kind::flag:
      return origin.source;
    case Origin::Kind::defaults:
      break;
  }
  return key;
}

std::string scheme_list(const std::vector<std::string>& schemes) {
  std::string text;
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    if (i > 0) text += i + 1 == schemes.size() ? " or " : ", ";
    text += schemes[i] + "://";
  }
  return text;
}

// The database URL, from wherever it came, must name a scheme storage can open.
void check_database(const Settings& s, const SettingsOptions& options) {
  if (s.database.empty() || options.database_schemes.empty()) return;
  const auto scheme = url_scheme(s.database);
  for (const auto& known : options.database_schemes)
    if (scheme == known) return;
  throw Error(origin_name(s.origin("database"), "database") + ": expected a " +
              scheme_list(options.database_schemes) + " URL, got '" + redact_url(s.database) + "'");
}

void resolve_jwt(Settings& s, const Environment& env) {
  if (!s.jwt.enabled) return;
  if (s.jwt.algorithm == "HS256") {
    const auto secret = get(env, s.jwt.secret_env);
    if (!secret)
      throw Error("auth.jwt.secret_env: environment variable " + s.jwt.secret_env +
                  " is not set (HS256 needs a shared secret)");
    if (secret->size() < 32) throw Error(s.jwt.secret_env + ": must be at least 32 characters");
    s.jwt.secret = *secret;
    s.origins["auth.jwt.secret"] = Origin::from_env(s.jwt.secret_env);
  } else if (s.jwt.public_key_file.empty()) {
    throw Error("auth.jwt.public_key_file: required for RS256");
  }
  if (s.jwt.algorithm == "HS256" && !s.jwt.public_key_file.empty())
    throw Error("auth.jwt.public_key_file: only used with \"algorithm\": \"RS256\"");
}

void resolve_upstreams(Settings& s, const Environment& env, bool credentials) {
  for (auto& [name, u] : s.upstreams) {
    const std::string key = "upstreams." + name;
    if (u.base_url.empty()) throw Error(key + ".base_url: required");
    while (u.base_url.size() > 1 && u.base_url.back() == '/') u.base_url.pop_back();
    if (!u.api_key_env.empty() && !u.api_key_file.empty())
      throw Error(key + ": api_key_env and api_key_file are exclusive");
    if (!credentials) continue;
    if (!u.api_key_env.empty()) {
      // A named source that gives nothing is a mistake to report now, not a silent call
      // without credentials later.
      auto v = get(env, u.api_key_env);
      if (!v)
        throw Error(key + ".api_key_env: the environment variable " + u.api_key_env +
                    " is not set");
      u.api_key = *v;
      s.origins[key + ".api_key"] = Origin::from_env(u.api_key_env);
    } else if (!u.api_key_file.empty()) {
      u.api_key = read_secret_file(u.api_key_file, key + ".api_key_file");
      s.origins[key + ".api_key"] = Origin::from_file(u.api_key_file.string());
    }
  }
}

// MCPD_TOKEN_PEPPER, else the content of MCPD_TOKEN_PEPPER_FILE.
void resolve_pepper(Settings& s, const Environment& env) {
  if (auto pepper = get(env, "MCPD_TOKEN_PEPPER")) {
    s.token_pepper = *pepper;
    s.origins["auth.token_pepper"] = Origin::from_env("MCPD_TOKEN_PEPPER");
    return;
  }
  const auto file = get(env, "MCPD_TOKEN_PEPPER_FILE");
  if (!file) return;
  s.token_pepper = read_secret_file(*file, "MCPD_TOKEN_PEPPER_FILE");
  if (s.token_pepper.empty()) throw Error("MCPD_TOKEN_PEPPER_FILE: '" + *file + "' is empty");
  s.origins["auth.token_pepper"] = Origin::from_env("MCPD_TOKEN_PEPPER_FILE");
}

// MCPD_STATE_KEY, else the content of the state key file (MCPD_STATE_KEY_FILE or
// server.state_key_file).
void resolve_state_key(Settings& s, const Environment& env) {
  std::string name = "MCPD_STATE_KEY";
  if (auto key = get(env, "MCPD_STATE_KEY")) {
    s.state_key = *key;
    s.origins["server.state_key"] = Origin::from_env(name);
  } else if (!s.state_key_file.empty()) {
    const Origin from = s.origin("server.state_key_file");
    name = origin_name(from, "server.state_key_file");
    s.state_key = read_secret_file(s.state_key_file, name);
    s.origins["server.state_key"] = from;
  } else {
    return;
  }
  if (s.state_key.size() < k_min_state_key_length)
    throw Error(name + ": the state key must be at least " +
                std::to_string(k_min_state_key_length) + " bytes, got " +
                std::to_string(s.state_key.size()));
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

std::optional<DefaultDatabase> default_database(const Environment& env) {
  auto in = [](const std::string& directory) { return "sqlite://" + directory + "/mcpd.db"; };
  if (auto state = get(env, "STATE_DIRECTORY")) {
    // systemd creates StateDirectory= itself, and may list several, ':'-separated.
    const std::string first = state->substr(0, state->find(':'));
    if (!first.empty()) return DefaultDatabase{in(first), {}};
  }
  if (auto xdg = get(env, "XDG_DATA_HOME"); xdg && xdg->front() == '/')
    return DefaultDatabase{in(*xdg + "/mcpd"), *xdg + "/mcpd"};
  if (auto home = get(env, "HOME"))
    return DefaultDatabase{in(*home + "/.local/share/mcpd"), *home + "/.local/share/mcpd"};
  return std::nullopt;
}

fs::path default_scratch_dir(const Environment& env) {
  // The sweeper empties the scratch root, so it is a subdirectory, not the runtime directory.
  if (auto runtime = get(env, "RUNTIME_DIRECTORY"))
    return fs::path(runtime->substr(0, runtime->find(':'))) / "scratch";
  const fs::path tmp = get(env, "TMPDIR").value_or("/tmp");
  return tmp / ("mcpd-" + std::to_string(::getuid()));
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

namespace {

// "a, b,c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(std::move(item));
    start = end + 1;
  }
  return items;
}

}  // namespace

void apply_environment(Settings& s, const Environment& env) {
  EnvLayer layer(s, env);
  apply_server_environment(s, layer);
  apply_log_environment(s, layer);
  apply_auth_environment(s, layer);
  apply_django_environment(s, layer);
  layer.apply("MCPD_UPSTREAM_DENY", "upstream.deny",
              [&](const std::string& v) { s.upstream_deny = comma_list(v); });
  layer.apply("MCPD_UPSTREAM_ALLOW", "upstream.allow",
              [&](const std::string& v) { s.upstream_allow = comma_list(v); });
  // MCPD_DATABASE_URL over DATABASE_URL.
  if (!layer.apply("MCPD_DATABASE_URL", "database", [&](const std::string& v) { s.database = v; }))
    layer.apply("DATABASE_URL", "database", [&](const std::string& v) { s.database = v; });
}

void apply_flags(Settings& s, const SettingsFlags& flags) {
  if (!flags.tools.empty()) {
    s.tools = flags.tools;
    s.origins["tools"] = Origin::from_flag("--tools");
  }
  if (flags.database) {
    s.database = *flags.database;
    s.origins["database"] = Origin::from_flag("--database");
  }
  if (flags.listen) {
    parse_listen(*flags.listen, "--listen", s.listen_host, s.listen_port);
    s.origins["server.listen"] = Origin::from_flag("--listen");
  }
  if (flags.no_auth) {
    s.require_auth = false;
    s.origins["auth.require"] = Origin::from_flag("--no-auth");
  }
  if (flags.stateless) {
    s.stateless = true;
    s.origins["server.stateless"] = Origin::from_flag("--stateless");
  }
  if (!flags.allowed_origins.empty()) {
    s.allowed_origins = flags.allowed_origins;
    s.origins["allowed_origins"] = Origin::from_flag("--allow-origin");
  }
  if (flags.max_connections) {
    if (*flags.max_connections < 0)
      throw Error("--max-connections: expected a non-negative integer");
    s.max_connections = *flags.max_connections;
    s.origins["server.max_connections"] = Origin::from_flag("--max-connections");
  }
  if (flags.io_threads) {
    if (*flags.io_threads < 0 || *flags.io_threads > k_max_io_threads)
      throw Error("--io-threads: expected an integer from 0 to " +
                  std::to_string(k_max_io_threads));
    s.io_threads = *flags.io_threads;
    s.origins["server.io_threads"] = Origin::from_flag("--io-threads");
  }
}

void finish_settings(Settings& s, const Environment& env, const SettingsOptions& options) {
  if (s.version.empty()) s.version = MCPD_VERSION;
  if (s.database.empty()) {
    if (auto fallback = default_database(env)) {
      s.database = fallback->url;
      s.database_directory = fallback->directory;
    }
  }
  check_database(s, options);
  if (s.scratch_dir.empty()) s.scratch_dir = default_scratch_dir(env);
  resolve_pepper(s, env);
  resolve_upstreams(s, env, options.resolve_credentials);
  if (!options.resolve_credentials) return;
  resolve_jwt(s, env);
  resolve_state_key(s, env);
}

Settings load_settings(const SettingsFlags& flags, const Environment& env,
                       const SettingsOptions& options) {
  Settings settings;
  if (flags.config) {
    apply_config_file(settings, *flags.config);
    settings.origins["config_file"] = Origin::from_flag("--config");
  } else if (auto file = get(env, "MCPD_CONFIG")) {
    apply_config_file(settings, *file);
    settings.origins["config_file"] = Origin::from_env("MCPD_CONFIG");
  }
  apply_environment(settings, env);
  apply_flags(settings, flags);
  finish_settings(settings, env, options);
  return settings;
}

}  // namespace mcpd::core
