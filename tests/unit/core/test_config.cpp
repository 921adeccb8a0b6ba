#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/config/config.hpp"
#include "core/config/error.hpp"

using mcpd::core::Environment;
using mcpd::core::Settings;
using mcpd::core::SettingsFlags;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A config file in a private temporary directory, removed at the end of the test.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    std::string pattern = (fs::temp_directory_path() / "mcpd-config-XXXXXX").string();
    m_dir = ::mkdtemp(pattern.data());
    m_file = m_dir / "mcpd.json";
    std::ofstream(m_file) << text;
  }
  ~TempConfig() { fs::remove_all(m_dir); }
  const fs::path& file() const { return m_file; }
  const fs::path& dir() const { return m_dir; }

 private:
  fs::path m_dir;
  fs::path m_file;
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const mcpd::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The schemes storage knows (storage::supported_schemes()), as the commands pass them.
mcpd::core::SettingsOptions with_schemes() {
  mcpd::core::SettingsOptions options;
  options.database_schemes = {"sqlite", "postgresql", "postgres"};
  return options;
}

Settings from_config(const json& config, const Environment& env = {}) {
  Settings s;
  mcpd::core::apply_config(s, config, "/etc/mcpd/mcpd.json");
  mcpd::core::finish_settings(s, env, with_schemes());
  return s;
}

}  // namespace

TEST_CASE("defaults without config, environment or flags", "[core][config]") {
  const Settings s = mcpd::core::load_settings({}, {{"HOME", "/home/ann"}});
  CHECK(s.name == "mcpd");
  CHECK(s.version == MCPD_VERSION);
  CHECK(s.listen() == "127.0.0.1:8001");
  CHECK(s.require_auth);
  CHECK_FALSE(s.stateless);
  CHECK(s.rate_limit_requests == 100);
  CHECK(s.rate_limit_window == std::chrono::seconds(60));
  CHECK(s.rate_limit_burst == 0);  // the same as rate_limit_requests
  CHECK(s.describe()["rate_limit"]["burst"] == 100);
  CHECK(s.log_level == "info");
  CHECK(s.log_format.empty());
  CHECK(s.tools.empty());
  CHECK(s.database == "sqlite:///home/ann/.local/share/mcpd/mcpd.db");  // the default file
  CHECK(s.origin("database").kind == mcpd::core::Origin::Kind::defaults);
  CHECK_FALSE(s.jwt.enabled);
  CHECK(s.scratch_max_age == std::chrono::hours(24));
  CHECK(s.scratch_sweep_interval == std::chrono::hours(6));
}

TEST_CASE("the PRODUCT example config file is accepted", "[core][config]") {
  const json config = json::parse(R"({
    "server": {"name": "shop", "version": "1.4.0", "environment": "production",
               "instructions": "Tools for the shop.", "listen": "127.0.0.1:8001",
               "stateless": false},
    "database": "sqlite:///var/lib/mcpd/mcpd.db",
    "tools": ["/etc/mcpd/tools.d", "more"],
    "auth": {"require": true,
             "jwt": {"algorithm": "HS256", "secret_env": "JWT_SECRET",
                     "issuer": "https://auth.example.com", "audience": "https://mcp.example.com"}},
    "rate_limit": {"requests": 100, "window_seconds": 60},
    "allowed_origins": ["https://app.example.com"],
    "log": {"level": "warning", "format": "json"},
    "upstreams": {
      "django": {"base_url": "https://api.example.com/", "auth_scheme": "Api-Key",
                 "api_key_env": "DJANGO_API_KEY", "timeout_ms": 30000, "max_retries": 3,
                 "pool_size": 20, "health_path": "/api/v1/core/stats/"}
    },
    "exec": {"scratch_dir": "scratch", "scratch_max_age_seconds": 3600,
             "scratch_sweep_interval_seconds": 600}
  })");
  const Settings s =
      from_config(config, {{"JWT_SECRET", std::string(40, 'k')}, {"DJANGO_API_KEY", "key-123"}});
  CHECK(s.name == "shop");
  CHECK(s.version == "1.4.0");
  CHECK(s.instructions == "Tools for the shop.");
  CHECK(s.database == "sqlite:///var/lib/mcpd/mcpd.db");
  REQUIRE(s.tools.size() == 2);
  CHECK(s.tools[0] == "/etc/mcpd/tools.d");
  CHECK(s.tools[1] == "/etc/mcpd/more");  // relative to the config file's directory
  CHECK(s.jwt.enabled);
  CHECK(s.jwt.secret == std::string(40, 'k'));
  CHECK(s.jwt.issuer == "https://auth.example.com");
  CHECK(s.allowed_origins == std::vector<std::string>{"https://app.example.com"});
  CHECK(s.log_level == "warn");
  CHECK(s.log_format == "json");
  const auto& django = s.upstreams.at("django");
  CHECK(django.base_url == "https://api.example.com");
  CHECK(django.auth_scheme == "Api-Key");
  CHECK(django.api_key == "key-123");
  CHECK(django.timeout == std::chrono::milliseconds(30000));
  CHECK(django.health_path == "/api/v1/core/stats/");
  CHECK(s.scratch_dir == "/etc/mcpd/scratch");
  CHECK(s.scratch_max_age == std::chrono::seconds(3600));
  CHECK(s.scratch_sweep_interval == std::chrono::seconds(600));
}

TEST_CASE("config type errors name the file and the key", "[core][config]") {
  auto err = [](const char* text) { return error_of([&] { from_config(json::parse(text)); }); };
  CHECK(err(R"({"rate_limit": {"requests": "many"}})") ==
        "config /etc/mcpd/mcpd.json: rate_limit.requests: expected a positive integer");
  CHECK(err(R"({"rate_limit": {"requests": 0}})") ==
        "config /etc/mcpd/mcpd.json: rate_limit.requests: expected a positive integer");
  CHECK(err(R"({"rate_limit": {"requests": 1.5}})") ==
        "config /etc/mcpd/mcpd.json: rate_limit.requests: expected a positive integer");
  CHECK(err(R"({"rate_limit": {"burst": 0}})") ==
        "config /etc/mcpd/mcpd.json: rate_limit.burst: expected a positive integer");
  CHECK(err(R"({"server": {"stateless": "yes"}})") ==
        "config /etc/mcpd/mcpd.json: server.stateless: expected true or false");
  CHECK(err(R"({"server": {"nmae": "x"}})") ==
        "config /etc/mcpd/mcpd.json: server.nmae: unknown key");
  CHECK(err(R"({"colour": 1})") == "config /etc/mcpd/mcpd.json: colour: unknown key");
  CHECK(err(R"({"tools": "/etc/mcpd"})") ==
        "config /etc/mcpd/mcpd.json: tools: expected an array of paths");
  CHECK(err(R"({"tools": [3]})") == "config /etc/mcpd/mcpd.json: tools[0]: expected a string");
  CHECK(err(R"({"log": {"level": "loud"}})").find("log.level: expected trace") !=
        std::string::npos);
  CHECK(err(R"({"log": {"format": "xml"}})") ==
        "config /etc/mcpd/mcpd.json: log.format: expected \"text\" or \"json\"");
  CHECK(err(R"({"database": "mysql://x"})") ==
        "config /etc/mcpd/mcpd.json: database: expected a sqlite://, postgresql:// or "
        "postgres:// URL, got 'mysql://x'");
  CHECK(err(R"({"server": {"listen": "localhost"}})") ==
        "config /etc/mcpd/mcpd.json: server.listen: expected HOST:PORT, got 'localhost'");
  CHECK(err(R"({"upstreams": {"api": {"base_url": "ftp://x"}}})") ==
        "config /etc/mcpd/mcpd.json: upstreams.api.base_url: expected an http:// or https:// URL");
  CHECK(err(R"({"upstreams": {"api": {"base_url": "http://x", "max_retries": -1}}})") ==
        "config /etc/mcpd/mcpd.json: upstreams.api.max_retries: expected a non-negative integer");
  CHECK(err(R"({"upstreams": {"api": {"timeout": 5}}})") ==
        "config /etc/mcpd/mcpd.json: upstreams.api.timeout: unknown key");
  CHECK(err(R"({"upstreams": {"api": {}}})") == "upstreams.api.base_url: required");
  CHECK(err(R"({"exec": {"scratch_max_age_seconds": 0}})") ==
        "config /etc/mcpd/mcpd.json: exec.scratch_max_age_seconds: expected a positive integer");
  CHECK(err(R"({"auth": {"jwt": {"algorithm": "none"}}})") ==
        "config /etc/mcpd/mcpd.json: auth.jwt.algorithm: expected \"HS256\" or \"RS256\"");
  CHECK(err(R"([1])") == "config /etc/mcpd/mcpd.json: (top level): expected an object");
}

TEST_CASE("a config file with bad JSON reports line and column", "[core][config]") {
  const TempConfig config("{\n  \"server\": {\"name\": \"x\",}\n}\n");
  SettingsFlags flags;
  flags.config = config.file();
  const std::string message = error_of([&] { mcpd::core::load_settings(flags, {}); });
  CHECK(message.rfind("config " + config.file().string() + ":2:", 0) == 0);
  CHECK(message.find("invalid JSON") != std::string::npos);
}

TEST_CASE("a missing config file is an error naming it", "[core][config]") {
  const std::string message = error_of([] {
    mcpd::core::load_settings({}, {{"MCPD_CONFIG", "/nonexistent/mcpd.json"}});
  });
  CHECK(message.find("/nonexistent/mcpd.json") != std::string::npos);
}

TEST_CASE("precedence: flags over environment over config file", "[core][config]") {
  const TempConfig config(R"({"server": {"listen": "0.0.0.0:9000", "environment": "staging"},
                              "database": "sqlite:///from-config.db",
                              "tools": ["tools.d"],
                              "rate_limit": {"requests": 5, "burst": 20},
                              "log": {"level": "error"},
                              "allowed_origins": ["https://config.example"]})");
  Environment env{{"MCPD_CONFIG", config.file().string()}};

  SECTION("config file alone") {
    const Settings s = mcpd::core::load_settings({}, env);
    CHECK(s.listen() == "0.0.0.0:9000");
    CHECK(s.environment == "staging");
    CHECK(s.database == "sqlite:///from-config.db");
    CHECK(s.tools == std::vector<fs::path>{config.dir() / "tools.d"});
    CHECK(s.rate_limit_requests == 5);
    CHECK(s.rate_limit_burst == 20);
    CHECK(s.log_level == "error");
    CHECK(s.config_file == config.file());
  }
  SECTION("environment over config") {
    env["PORT"] = "9100";
    env["MCP_HOST"] = "127.0.0.2";
    env["ENVIRONMENT"] = "production";
    env["MCPD_DATABASE_URL"] = "postgresql://db/mcpd";
    env["DATABASE_URL"] = "sqlite:///ignored.db";
    env["RATE_LIMIT_REQUESTS"] = "7";
    env["RATE_LIMIT_WINDOW"] = "30";
    env["RATE_LIMIT_BURST"] = "12";
    env["LOG_LEVEL"] = "WARNING";
    env["LOG_FORMAT"] = "json";
    const Settings s = mcpd::core::load_settings({}, env);
    CHECK(s.listen() == "127.0.0.2:9100");
    CHECK(s.environment == "production");
    CHECK(s.database == "postgresql://db/mcpd");
    CHECK(s.rate_limit_requests == 7);
    CHECK(s.rate_limit_window == std::chrono::seconds(30));
    CHECK(s.rate_limit_burst == 12);
    CHECK(s.log_level == "warn");
    CHECK(s.log_format == "json");
  }
  SECTION("DATABASE_URL when MCPD_DATABASE_URL is unset") {
    env["DATABASE_URL"] = "sqlite:///db.db";
    CHECK(mcpd::core::load_settings({}, env).database == "sqlite:///db.db");
  }
  SECTION("flags over environment") {
    env["PORT"] = "9100";
    env["MCPD_DATABASE_URL"] = "postgresql://db/mcpd";
    env["MCP_REQUIRE_AUTH"] = "true";
    SettingsFlags flags;
    flags.listen = "[::1]:0";
    flags.database = "sqlite:///flag.db";
    flags.tools = {"a.json", "b"};
    flags.no_auth = true;
    flags.stateless = true;
    flags.allowed_origins = {"https://flag.example"};
    const Settings s = mcpd::core::load_settings(flags, env);
    CHECK(s.listen_host == "::1");
    CHECK(s.listen_port == 0);
    CHECK(s.listen() == "[::1]:0");
    CHECK(s.database == "sqlite:///flag.db");
    CHECK(s.tools == std::vector<fs::path>{"a.json", "b"});  // flags are relative to the cwd
    CHECK_FALSE(s.require_auth);
    CHECK(s.stateless);
    CHECK(s.allowed_origins == std::vector<std::string>{"https://flag.example"});
  }
  SECTION("--config over MCPD_CONFIG") {
    const TempConfig other(R"({"server": {"name": "other"}})");
    SettingsFlags flags;
    flags.config = other.file();
    CHECK(mcpd::core::load_settings(flags, env).name == "other");
  }
}

TEST_CASE("auth switches from the environment", "[core][config]") {
  using mcpd::core::load_settings;
  CHECK_FALSE(load_settings({}, {{"MCP_REQUIRE_AUTH", "false"}}).require_auth);
  CHECK_FALSE(load_settings({}, {{"AUTH_ENABLED", "False"}}).require_auth);
  CHECK(load_settings({}, {{"AUTH_ENABLED", "false"}, {"MCP_REQUIRE_AUTH", "1"}}).require_auth);
  CHECK(error_of([] {
          load_settings({}, {{"MCP_REQUIRE_AUTH", "maybe"}});
        }) == "MCP_REQUIRE_AUTH: expected true or false, got 'maybe'");
}

TEST_CASE("invalid environment values name the variable", "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(error_of([] {
          load_settings({}, {{"RATE_LIMIT_REQUESTS", "abc"}});
        }) == "RATE_LIMIT_REQUESTS: expected a positive integer, got 'abc'");
  CHECK(error_of([] {
          load_settings({}, {{"RATE_LIMIT_WINDOW", "-3"}});
        }) == "RATE_LIMIT_WINDOW: expected a positive integer, got '-3'");
  CHECK(error_of([] {
          load_settings({}, {{"RATE_LIMIT_BURST", "0"}});
        }) == "RATE_LIMIT_BURST: expected a positive integer, got '0'");
  CHECK(error_of([] {
          load_settings({}, {{"PORT", "70000"}});
        }) == "PORT: expected a port number (0-65535), got '70000'");
  // Only digits (and a sign for negative numbers): a stray blank or '+' is an error.
  CHECK(error_of([] {
          load_settings({}, {{"RATE_LIMIT_REQUESTS", " 5"}});
        }) == "RATE_LIMIT_REQUESTS: expected a positive integer, got ' 5'");
  CHECK(error_of([] {
          load_settings({}, {{"MCPD_IO_THREADS", "+2"}});
        }).rfind("MCPD_IO_THREADS:", 0) == 0);
  CHECK(error_of([] {
          load_settings({}, {{"PORT", "80 "}});
        }) == "PORT: expected a port number (0-65535), got '80 '");
  CHECK(error_of([] {
          load_settings({}, {{"RATE_LIMIT_BURST", "99999999999999999999"}});
        }) == "RATE_LIMIT_BURST: expected a positive integer, got '99999999999999999999'");
  CHECK(error_of([] { load_settings({}, {{"LOG_LEVEL", "chatty"}}); }).rfind("LOG_LEVEL:", 0) == 0);
  CHECK(error_of([] {
          load_settings({}, {{"LOG_FORMAT", "xml"}});
        }) == "LOG_FORMAT: expected text or json, got 'xml'");
  CHECK(error_of([] {
          load_settings({}, {{"DEBUG", "sure"}});
        }) == "DEBUG: expected true or false, got 'sure'");
  CHECK(error_of([] {
          load_settings({}, {{"MCPD_DATABASE_URL", "mysql://x"}}, with_schemes());
        }) ==
        "MCPD_DATABASE_URL: expected a sqlite://, postgresql:// or postgres:// URL, got "
        "'mysql://x'");
  CHECK(error_of([] {
          load_settings({}, {{"DJANGO_BASE_URL", "api.example.com"}});
        }) == "DJANGO_BASE_URL: expected an http:// or https:// URL, got 'api.example.com'");
}

TEST_CASE("empty environment values count as unset", "[core][config]") {
  const Settings s = mcpd::core::load_settings({}, {{"PORT", ""}, {"LOG_LEVEL", ""}});
  CHECK(s.listen_port == 8001);
  CHECK(s.log_level == "info");
}

TEST_CASE("DEBUG lowers the log level unless LOG_LEVEL is set", "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(load_settings({}, {{"DEBUG", "true"}}).log_level == "debug");
  CHECK(load_settings({}, {{"DEBUG", "true"}}).debug);
  CHECK(load_settings({}, {{"DEBUG", "true"}, {"LOG_LEVEL", "error"}}).log_level == "error");
  CHECK(load_settings({}, {{"DEBUG", "false"}}).log_level == "info");
}

TEST_CASE("JWT_SECRET enables HS256 and must be long enough", "[core][config]") {
  using mcpd::core::load_settings;
  const Settings s = load_settings({}, {{"JWT_SECRET", std::string(32, 's')}});
  CHECK(s.jwt.enabled);
  CHECK(s.jwt.algorithm == "HS256");
  CHECK(s.jwt.secret == std::string(32, 's'));
  CHECK(error_of([] {
          load_settings({}, {{"JWT_SECRET", "short"}});
        }) == "JWT_SECRET: must be at least 32 characters");
  CHECK(error_of([] {
          from_config(json::parse(R"({"auth": {"jwt": {}}})"));
        }).rfind("auth.jwt.secret_env: environment variable JWT_SECRET is not set", 0) == 0);
  CHECK(error_of([] {
          from_config(json::parse(R"({"auth": {"jwt": {"algorithm": "RS256"}}})"));
        }) == "auth.jwt.public_key_file: required for RS256");
}

TEST_CASE("DJANGO_BASE_URL and DJANGO_API_KEY define the django upstream", "[core][config]") {
  const Settings s = mcpd::core::load_settings(
      {}, {{"DJANGO_BASE_URL", "https://api.example.com/"}, {"DJANGO_API_KEY", "secret-key"}});
  const auto& django = s.upstreams.at("django");
  CHECK(django.base_url == "https://api.example.com");
  CHECK(django.auth_scheme == "Api-Key");
  CHECK(django.api_key_env == "DJANGO_API_KEY");
  CHECK(django.api_key == "secret-key");
  // Without a base URL there is no upstream to attach the key to.
  CHECK(mcpd::core::load_settings({}, {{"DJANGO_API_KEY", "k"}}).upstreams.empty());
}

TEST_CASE("an upstream key can come from a file", "[core][config]") {
  const TempConfig config(R"({"upstreams": {"crm": {"base_url": "http://crm.local",
                                                   "api_key_file": "crm.key"}}})");
  std::ofstream(config.dir() / "crm.key") << "file-key\n";
  const Settings s = mcpd::core::load_settings({}, {{"MCPD_CONFIG", config.file().string()}});
  CHECK(s.upstreams.at("crm").api_key == "file-key");
  CHECK(s.upstreams.at("crm").auth_scheme == "Bearer");
}

TEST_CASE("an upstream key variable that is not set stops startup", "[core][config]") {
  const json config = json::parse(
      R"({"upstreams": {"crm": {"base_url": "http://crm.local", "api_key_env": "CRM_KEY"}}})");
  CHECK(error_of([&] { from_config(config); }) ==
        "upstreams.crm.api_key_env: the environment variable CRM_KEY is not set");
  CHECK(error_of([&] {
          from_config(config, {{"CRM_KEY", ""}});
        }) == "upstreams.crm.api_key_env: the environment variable CRM_KEY is not set");
  CHECK(from_config(config, {{"CRM_KEY", "k1"}}).upstreams.at("crm").api_key == "k1");
  // DJANGO_BASE_URL alone defines an upstream without a key.
  CHECK(mcpd::core::load_settings({}, {{"DJANGO_BASE_URL", "http://api.local"}})
            .upstreams.at("django")
            .api_key.empty());
}

TEST_CASE("describe() masks secrets", "[core][config]") {
  const Settings s = mcpd::core::load_settings({}, {{"JWT_SECRET", std::string(40, 'z')},
                                                    {"DJANGO_BASE_URL", "https://api.example.com"},
                                                    {"DJANGO_API_KEY", "very-secret-api-key"},
                                                    {"MCPD_TOKEN", "mcpd_supersecrettoken"}});
  const std::string text = s.describe().dump();
  CHECK(text.find(std::string(40, 'z')) == std::string::npos);
  CHECK(text.find("very-secret-api-key") == std::string::npos);
  CHECK(text.find("mcpd_supersecrettoken") == std::string::npos);
  CHECK(text.find("https://api.example.com") != std::string::npos);
}

TEST_CASE("parse_listen and parse_bool", "[core][config]") {
  std::string host;
  std::uint16_t port = 0;
  mcpd::core::parse_listen("localhost:80", "x", host, port);
  CHECK(host == "localhost");
  CHECK(port == 80);
  mcpd::core::parse_listen("[::]:8080", "x", host, port);
  CHECK(host == "::");
  CHECK(port == 8080);
  for (const char* bad : {"", ":80", "host:", "host:x", "host:65536", "::1:80", "[::1]80"})
    CHECK(error_of([&] {
            mcpd::core::parse_listen(bad, "--listen", host, port);
          }).rfind("--listen: expected HOST:PORT", 0) == 0);
  CHECK(mcpd::core::parse_bool("ON", "x"));
  CHECK_FALSE(mcpd::core::parse_bool("no", "x"));
}

TEST_CASE("database: flag > MCPD_DATABASE_URL > DATABASE_URL > config > default",
          "[core][config]") {
  using mcpd::core::Origin;
  const TempConfig config(R"({"database": "sqlite:///config.db"})");
  Environment env{{"MCPD_CONFIG", config.file().string()},
                  {"MCPD_DATABASE_URL", "sqlite:///mcpd.db"},
                  {"DATABASE_URL", "postgresql://db/app"},
                  {"HOME", "/home/ada"}};
  SettingsFlags flags;
  flags.database = "sqlite:///flag.db";
  auto check = [&](const std::string& url, Origin::Kind kind, const std::string& source) {
    const Settings s = mcpd::core::load_settings(flags, env, with_schemes());
    CHECK(s.database == url);
    CHECK(s.origin("database").kind == kind);
    CHECK(s.origin("database").source == source);
    return s;
  };
  check("sqlite:///flag.db", Origin::Kind::flag, "--database");
  flags.database.reset();
  check("sqlite:///mcpd.db", Origin::Kind::env, "MCPD_DATABASE_URL");
  env["MCPD_DATABASE_URL"] = "";  // empty counts as unset
  check("postgresql://db/app", Origin::Kind::env, "DATABASE_URL");
  env.erase("DATABASE_URL");
  check("sqlite:///config.db", Origin::Kind::file, config.file().string());
  env.erase("MCPD_CONFIG");
  CHECK(check("sqlite:///home/ada/.local/share/mcpd/mcpd.db", Origin::Kind::defaults, "")
            .database_directory == "/home/ada/.local/share/mcpd");
}

TEST_CASE("the default database follows STATE_DIRECTORY, XDG_DATA_HOME, then HOME",
          "[core][config]") {
  using mcpd::core::default_database;
  const auto state = default_database({{"STATE_DIRECTORY", "/var/lib/mcpd:/var/lib/other"},
                                       {"XDG_DATA_HOME", "/home/ada/.data"},
                                       {"HOME", "/home/ada"}});
  REQUIRE(state);
  CHECK(state->url == "sqlite:///var/lib/mcpd/mcpd.db");
  CHECK(state->directory.empty());  // systemd creates StateDirectory
  const auto xdg = default_database({{"XDG_DATA_HOME", "/home/ada/.data"}, {"HOME", "/x"}});
  REQUIRE(xdg);
  CHECK(xdg->url == "sqlite:///home/ada/.data/mcpd/mcpd.db");
  CHECK(xdg->directory == "/home/ada/.data/mcpd");
  // The XDG spec: relative paths are invalid.
  const auto home = default_database({{"XDG_DATA_HOME", "relative"}, {"HOME", "/home/ada"}});
  REQUIRE(home);
  CHECK(home->url == "sqlite:///home/ada/.local/share/mcpd/mcpd.db");
  CHECK_FALSE(default_database({}));
  // Without any of them, no database is known; opening it is what fails.
  CHECK(mcpd::core::load_settings({}, {}).database.empty());
}

TEST_CASE("database URLs are checked against the schemes storage knows, naming the origin",
          "[core][config]") {
  using mcpd::core::load_settings;
  SettingsFlags flags;
  flags.database = "mysql://u:pw@db/x";
  CHECK(error_of([&] { load_settings(flags, {}, with_schemes()); }) ==
        "--database: expected a sqlite://, postgresql:// or postgres:// URL, got "
        "'mysql://u:***@db/x'");
  CHECK(error_of([] {
          load_settings({}, {{"DATABASE_URL", "redis://x"}}, with_schemes());
        }).rfind("DATABASE_URL: expected", 0) == 0);
  CHECK(load_settings({}, {{"DATABASE_URL", "postgres://db/x"}}, with_schemes()).database ==
        "postgres://db/x");
  // Without a scheme list (core alone), any URL passes; storage refuses it when opening.
  CHECK(load_settings({}, {{"DATABASE_URL", "redis://x"}}).database == "redis://x");
}

TEST_CASE("default_scratch_dir follows RUNTIME_DIRECTORY, then TMPDIR", "[core][config]") {
  using mcpd::core::default_scratch_dir;
  const std::string uid = std::to_string(::getuid());
  CHECK(default_scratch_dir({{"RUNTIME_DIRECTORY", "/run/mcpd:/run/other"}, {"TMPDIR", "/x"}}) ==
        fs::path("/run/mcpd/scratch"));
  CHECK(default_scratch_dir({{"TMPDIR", "/var/tmp"}}) == fs::path("/var/tmp/mcpd-" + uid));
  CHECK(default_scratch_dir({}) == fs::path("/tmp/mcpd-" + uid));
  CHECK(mcpd::core::load_settings({}, {{"TMPDIR", "/var/tmp"}}).scratch_dir ==
        fs::path("/var/tmp/mcpd-" + uid));
  const Settings configured = from_config(json::parse(R"({"exec": {"scratch_dir": "/srv/s"}})"),
                                          {{"RUNTIME_DIRECTORY", "/run/mcpd"}});
  CHECK(configured.scratch_dir == fs::path("/srv/s"));
}

TEST_CASE("the token pepper: MCPD_TOKEN_PEPPER, else MCPD_TOKEN_PEPPER_FILE", "[core][config]") {
  using mcpd::core::load_settings;
  const TempConfig dir("{}");
  const fs::path file = dir.dir() / "pepper";
  std::ofstream(file) << "from-file\n";
  CHECK(load_settings({}, {}).token_pepper.empty());
  const Settings direct =
      load_settings({}, {{"MCPD_TOKEN_PEPPER", "key"}, {"MCPD_TOKEN_PEPPER_FILE", file.string()}});
  CHECK(direct.token_pepper == "key");
  CHECK(direct.origin("auth.token_pepper").text() == "env MCPD_TOKEN_PEPPER");
  const Settings from_file = load_settings({}, {{"MCPD_TOKEN_PEPPER_FILE", file.string()}});
  CHECK(from_file.token_pepper == "from-file");
  CHECK(from_file.origin("auth.token_pepper").text() == "env MCPD_TOKEN_PEPPER_FILE");
  CHECK_THAT(error_of([] {
               load_settings({}, {{"MCPD_TOKEN_PEPPER_FILE", "/nonexistent/pepper"}});
             }),
             Catch::StartsWith("MCPD_TOKEN_PEPPER_FILE: cannot read /nonexistent/pepper"));
  std::ofstream(file) << "\n";
  CHECK_THAT(error_of([&] {
               load_settings({}, {{"MCPD_TOKEN_PEPPER_FILE", file.string()}});
             }),
             Catch::Contains("is empty"));
  // Admin commands resolve the pepper even when they skip the server's credentials.
  mcpd::core::SettingsOptions admin;
  admin.resolve_credentials = false;
  CHECK(load_settings({}, {{"MCPD_TOKEN_PEPPER", "key"}}, admin).token_pepper == "key");
}

TEST_CASE("the state key: MCPD_STATE_KEY, else its file, at least 32 bytes", "[core][config]") {
  using mcpd::core::load_settings;
  const std::string key(32, 'k');
  const TempConfig config(R"({"server": {"state_key_file": "state.key"}})");
  const fs::path file = config.dir() / "state.key";
  std::ofstream(file) << std::string(40, 'f') << "\n";

  CHECK(load_settings({}, {}).state_key.empty());  // a random key per process
  const Settings direct = load_settings({}, {{"MCPD_STATE_KEY", key}});
  CHECK(direct.state_key == key);
  CHECK(direct.origin("server.state_key").text() == "env MCPD_STATE_KEY");

  const Settings via_config = load_settings({}, {{"MCPD_CONFIG", config.file().string()}});
  CHECK(via_config.state_key_file == file);
  CHECK(via_config.state_key == std::string(40, 'f'));  // trailing newline stripped
  CHECK(via_config.origin("server.state_key").text() == "file " + config.file().string());

  const Settings via_env = load_settings({}, {{"MCPD_STATE_KEY_FILE", file.string()}});
  CHECK(via_env.state_key == std::string(40, 'f'));
  CHECK(via_env.origin("server.state_key_file").text() == "env MCPD_STATE_KEY_FILE");
  // MCPD_STATE_KEY wins over any file.
  CHECK(load_settings({}, {{"MCPD_STATE_KEY", key}, {"MCPD_STATE_KEY_FILE", file.string()}})
            .state_key == key);

  CHECK(error_of([] {
          load_settings({}, {{"MCPD_STATE_KEY", "short"}});
        }) == "MCPD_STATE_KEY: the state key must be at least 32 bytes, got 5");
  std::ofstream(file) << "too short\n";
  CHECK(error_of([&] {
          load_settings({}, {{"MCPD_STATE_KEY_FILE", file.string()}});
        }) == "MCPD_STATE_KEY_FILE: the state key must be at least 32 bytes, got 9");
  CHECK(error_of([&] {
          load_settings({}, {{"MCPD_CONFIG", config.file().string()}});
        }) == "config " + config.file().string() +
                  ": server.state_key_file: the state key must be at least 32 bytes, got 9");
  CHECK_THAT(error_of([] {
               load_settings({}, {{"MCPD_STATE_KEY_FILE", "/nonexistent/key"}});
             }),
             Catch::StartsWith("MCPD_STATE_KEY_FILE: cannot read /nonexistent/key"));
}

TEST_CASE("cache TTL: MCPD_CACHE_TTL_MS over server.cache_ttl_ms over 60000", "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(load_settings({}, {}).cache_ttl == std::chrono::milliseconds(60000));
  CHECK(from_config(json::parse(R"({"server": {"cache_ttl_ms": 0}})")).cache_ttl.count() == 0);
  const TempConfig config(R"({"server": {"cache_ttl_ms": 5000}})");
  Environment env{{"MCPD_CONFIG", config.file().string()}};
  CHECK(load_settings({}, env).cache_ttl.count() == 5000);
  env["MCPD_CACHE_TTL_MS"] = "250";
  const Settings s = load_settings({}, env);
  CHECK(s.cache_ttl.count() == 250);
  CHECK(s.origin("server.cache_ttl_ms").text() == "env MCPD_CACHE_TTL_MS");
  CHECK(error_of([] {
          load_settings({}, {{"MCPD_CACHE_TTL_MS", "-1"}});
        }) == "MCPD_CACHE_TTL_MS: expected a non-negative integer, got '-1'");
  CHECK(error_of([] { from_config(json::parse(R"({"server": {"cache_ttl_ms": -5}})")); }) ==
        "config /etc/mcpd/mcpd.json: server.cache_ttl_ms: expected a non-negative integer");
}

TEST_CASE("connection cap: --max-connections over MCPD_MAX_CONNECTIONS over server.max_connections",
          "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(load_settings({}, {}).max_connections == 0);  // derived from the fd limit at startup
  const TempConfig config(R"({"server": {"max_connections": 500}})");
  Environment env{{"MCPD_CONFIG", config.file().string()}};
  CHECK(load_settings({}, env).max_connections == 500);
  env["MCPD_MAX_CONNECTIONS"] = "300";
  CHECK(load_settings({}, env).max_connections == 300);
  CHECK(load_settings({}, env).origin("server.max_connections").text() ==
        "env MCPD_MAX_CONNECTIONS");
  SettingsFlags flags;
  flags.max_connections = 200;
  const Settings s = load_settings(flags, env);
  CHECK(s.max_connections == 200);
  CHECK(s.origin("server.max_connections").text() == "flag --max-connections");
  CHECK(error_of([] {
          load_settings({}, {{"MCPD_MAX_CONNECTIONS", "many"}});
        }) == "MCPD_MAX_CONNECTIONS: expected a non-negative integer, got 'many'");
  CHECK(error_of([] { from_config(json::parse(R"({"server": {"max_connections": -1}})")); }) ==
        "config /etc/mcpd/mcpd.json: server.max_connections: expected a non-negative integer");
}

TEST_CASE("I/O threads: --io-threads over MCPD_IO_THREADS over server.io_threads",
          "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(load_settings({}, {}).io_threads == 0);  // one per core, decided at startup
  const TempConfig config(R"({"server": {"io_threads": 6}})");
  Environment env{{"MCPD_CONFIG", config.file().string()}};
  CHECK(load_settings({}, env).io_threads == 6);
  CHECK(load_settings({}, env).origin("server.io_threads").text() ==
        "file " + config.file().string());
  env["MCPD_IO_THREADS"] = "3";
  CHECK(load_settings({}, env).io_threads == 3);
  CHECK(load_settings({}, env).origin("server.io_threads").text() == "env MCPD_IO_THREADS");
  SettingsFlags flags;
  flags.io_threads = 1;
  const Settings s = load_settings(flags, env);
  CHECK(s.io_threads == 1);
  CHECK(s.origin("server.io_threads").text() == "flag --io-threads");
  flags.io_threads = 1024;  // an explicit value may exceed the default's cap of 64
  CHECK(load_settings(flags, env).io_threads == 1024);
  CHECK(load_settings({}, {{"MCPD_IO_THREADS", "0"}}).io_threads == 0);

  for (const char* bad : {"-1", "two", "1.5", "1025", "4x"})
    CHECK(error_of([&] {
            load_settings({}, {{"MCPD_IO_THREADS", bad}});
          }) ==
          "MCPD_IO_THREADS: expected an integer from 0 to 1024, got '" + std::string(bad) + "'");
  for (const int bad : {-1, 1025}) {
    SettingsFlags wrong;
    wrong.io_threads = bad;
    CHECK(error_of([&] { load_settings(wrong, {}); }) ==
          "--io-threads: expected an integer from 0 to 1024");
  }
  for (const char* bad : {"-2", "2.5", "\"4\""})
    CHECK(error_of([&] {
            from_config(json::parse(std::string(R"({"server": {"io_threads": )") + bad + "}}"));
          }) == "config /etc/mcpd/mcpd.json: server.io_threads: expected a non-negative integer");
  CHECK(error_of([] { from_config(json::parse(R"({"server": {"io_threads": 5000}})")); }) ==
        "config /etc/mcpd/mcpd.json: server.io_threads: at most 1024");
}

TEST_CASE("HTTP timeouts: server.timeouts_ms, each in milliseconds", "[core][config]") {
  const Settings defaults = mcpd::core::load_settings({}, {});
  CHECK(defaults.http_timeouts.header.count() == 10000);
  CHECK(defaults.http_timeouts.write.count() == 30000);
  const Settings s =
      from_config(json::parse(R"({"server": {"timeouts_ms": {"header": 500, "write": 700}}})"));
  CHECK(s.http_timeouts.header.count() == 500);
  CHECK(s.http_timeouts.body.count() == 30000);
  CHECK(s.http_timeouts.idle.count() == 60000);
  CHECK(s.http_timeouts.write.count() == 700);
  CHECK(error_of([] {
          from_config(json::parse(R"({"server": {"timeouts_ms": {"header": 0}}})"));
        }) == "config /etc/mcpd/mcpd.json: server.timeouts_ms.header: expected a positive integer");
  CHECK(error_of([] { from_config(json::parse(R"({"server": {"timeouts_ms": {"read": 5}}})")); }) ==
        "config /etc/mcpd/mcpd.json: server.timeouts_ms.read: unknown key");
}

TEST_CASE("every setting knows where its value came from", "[core][config]") {
  using mcpd::core::Origin;
  const TempConfig config(R"({"server": {"name": "shop", "listen": "0.0.0.0:9000"},
                              "log": {"level": "error"},
                              "upstreams": {"crm": {"base_url": "http://crm.local"}}})");
  Environment env{{"MCPD_CONFIG", config.file().string()}, {"LOG_LEVEL", "warn"}, {"PORT", "9100"}};
  SettingsFlags flags;
  flags.tools = {"tools.d"};
  flags.listen = "127.0.0.1:7000";
  const Settings s = mcpd::core::load_settings(flags, env);
  const std::string file = config.file().string();
  CHECK(s.origin("server.name").text() == "file " + file);
  CHECK(s.origin("upstreams.crm.base_url").text() == "file " + file);
  CHECK(s.origin("upstreams.crm.timeout_ms").text() == "default");
  CHECK(s.origin("log.level").text() == "env LOG_LEVEL");
  CHECK(s.origin("server.listen").text() == "flag --listen");
  CHECK(s.origin("tools").text() == "flag --tools");
  CHECK(s.origin("config_file").text() == "env MCPD_CONFIG");
  CHECK(s.origin("server.version").text() == "default");
  CHECK(s.origin("log.format").kind_name() == std::string("default"));

  // show_settings lists every leaf of describe(), each with its origin.
  const auto shown = mcpd::core::show_settings(s);
  auto find = [&](const std::string& key) {
    for (const auto& setting : shown)
      if (setting.key == key) return setting;
    FAIL("no setting " << key);
    return shown.front();
  };
  CHECK(find("server.name").value == "shop");
  CHECK(find("server.name").origin.kind == Origin::Kind::file);
  CHECK(find("log.level").value == "warn");
  CHECK(find("server.listen").value == "127.0.0.1:7000");
  CHECK(find("server.cache_ttl_ms").value == 60000);
  CHECK(find("server.max_connections").value == 0);
  CHECK(find("server.io_threads").value == 0);
  CHECK(find("server.timeouts_ms.idle").value == 60000);
  CHECK(find("server.state_key").value.is_null());
  CHECK(find("auth.token_pepper").value.is_null());
  CHECK(find("tools").value == nlohmann::ordered_json::array({"tools.d"}));
  CHECK(find("upstreams.crm.api_key").value.is_null());
}

TEST_CASE("describe() masks every secret and redacts the database password", "[core][config]") {
  const TempConfig config("{}");
  const fs::path key_file = config.dir() / "crm.key";
  std::ofstream(key_file) << "crm-secret-key-in-a-file\n";
  const json file = {
      {"upstreams",
       {{"crm", {{"base_url", "http://crm.local"}, {"api_key_file", key_file.string()}}}}}};
  std::ofstream(config.file()) << file.dump();
  const Settings s =
      mcpd::core::load_settings({}, {{"MCPD_CONFIG", config.file().string()},
                                     {"JWT_SECRET", std::string(40, 'z')},
                                     {"MCPD_STATE_KEY", std::string(33, 'q')},
                                     {"MCPD_TOKEN_PEPPER", "pepper-outside-the-db"},
                                     {"MCPD_TOKEN", "mcpd_supersecrettoken"},
                                     {"MCPD_DATABASE_URL", "postgresql://ada:dbpassw0rd@db/mcpd"}});
  const std::string text = s.describe().dump();
  for (const std::string& secret :
       {std::string(40, 'z'), std::string(33, 'q'), std::string("pepper-outside-the-db"),
        std::string("mcpd_supersecrettoken"), std::string("dbpassw0rd"),
        std::string("crm-secret-key-in-a-file")})
    CHECK(text.find(secret) == std::string::npos);
  const auto d = s.describe();
  CHECK(d["auth"]["jwt"]["secret"] == "***");
  CHECK(d["server"]["state_key"] == "***");
  CHECK(d["auth"]["token_pepper"] == "***");
  CHECK(d["token"] == "***");
  CHECK(d["upstreams"]["crm"]["api_key"] == "***");
  CHECK(d["database"] == "postgresql://ada:***@db/mcpd");
  CHECK(s.origin("upstreams.crm.api_key").text() == "file " + key_file.string());
  CHECK(s.origin("auth.jwt.secret").text() == "env JWT_SECRET");
}

TEST_CASE("admin commands load settings without the server's credentials", "[core][config]") {
  mcpd::core::SettingsOptions admin;
  admin.resolve_credentials = false;
  const json config = json::parse(
      R"({"upstreams": {"crm": {"base_url": "http://crm.local", "api_key_env": "CRM_KEY"}},
          "auth": {"jwt": {}}})");
  const TempConfig file(config.dump());
  const Settings s = mcpd::core::load_settings({}, {{"MCPD_CONFIG", file.file().string()}}, admin);
  CHECK(s.upstreams.at("crm").api_key.empty());
  CHECK(s.jwt.secret.empty());
  // serve needs them.
  CHECK_FALSE(error_of([&] {
                mcpd::core::load_settings({}, {{"MCPD_CONFIG", file.file().string()}});
              }) == "(no error)");
}

TEST_CASE("the listen address names both variables when both set it", "[core][config]") {
  using mcpd::core::load_settings;
  CHECK(load_settings({}, {{"MCP_HOST", "::1"}}).origin("server.listen").text() == "env MCP_HOST");
  CHECK(load_settings({}, {{"MCP_HOST", "::1"}, {"PORT", "9"}}).origin("server.listen").text() ==
        "env MCP_HOST, PORT");
}

TEST_CASE("upstream.deny/allow: config file, MCPD_UPSTREAM_* over it, built-ins shown first",
          "[core][config]") {
  using mcpd::core::k_builtin_upstream_deny;
  const TempConfig config(R"({"upstream": {"deny": ["10.0.0.0/8"], "allow": ["10.1.0.0/16"]}})");
  Environment env{{"MCPD_CONFIG", config.file().string()}};
  Settings s = mcpd::core::load_settings({}, env);
  CHECK(s.upstream_deny == std::vector<std::string>{"10.0.0.0/8"});
  CHECK(s.upstream_allow == std::vector<std::string>{"10.1.0.0/16"});
  CHECK(s.origin("upstream.deny").text() == "file " + config.file().string());

  env["MCPD_UPSTREAM_DENY"] = " 127.0.0.0/8,, ::1 ";
  s = mcpd::core::load_settings({}, env);
  CHECK(s.upstream_deny == std::vector<std::string>{"127.0.0.0/8", "::1"});
  CHECK(s.upstream_allow == std::vector<std::string>{"10.1.0.0/16"});
  CHECK(s.origin("upstream.deny").text() == "env MCPD_UPSTREAM_DENY");

  std::vector<std::string> shown = k_builtin_upstream_deny;
  shown.insert(shown.end(), {"127.0.0.0/8", "::1"});
  using Ranges = std::vector<std::string>;
  CHECK(s.describe()["upstream"]["deny"].get<Ranges>() == shown);
  CHECK(Settings().describe()["upstream"]["deny"].get<Ranges>() == k_builtin_upstream_deny);

  CHECK(error_of([] {
          from_config(json::parse(R"({"upstream": {"deny": "10.0.0.0/8"}})"));
        }).find("upstream.deny") != std::string::npos);
  CHECK(error_of([] {
          from_config(json::parse(R"({"upstream": {"block": []}})"));
        }).find("block") != std::string::npos);
}

TEST_CASE("describe() redacts a password in an upstream base URL", "[core][config]") {
  const Settings s = from_config(json::parse(
      R"({"upstreams": {"crm": {"base_url": "https://crm:hunter2-secret@crm.local"}}})"));
  CHECK(s.describe()["upstreams"]["crm"]["base_url"] == "https://crm:***@crm.local");
}
