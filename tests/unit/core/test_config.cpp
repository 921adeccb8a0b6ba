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

Settings from_config(const json& config, const Environment& env = {}) {
  Settings s;
  mcpd::core::apply_config(s, config, "/etc/mcpd/mcpd.json");
  mcpd::core::finish_settings(s, env);
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
  CHECK(s.database.empty());  // the storage default, resolved by storage/database_url
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
        "config /etc/mcpd/mcpd.json: database: expected a sqlite:// or postgresql:// URL");
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
  CHECK(error_of([] { load_settings({}, {{"LOG_LEVEL", "chatty"}}); }).rfind("LOG_LEVEL:", 0) == 0);
  CHECK(error_of([] {
          load_settings({}, {{"LOG_FORMAT", "xml"}});
        }) == "LOG_FORMAT: expected text or json, got 'xml'");
  CHECK(error_of([] {
          load_settings({}, {{"DEBUG", "sure"}});
        }) == "DEBUG: expected true or false, got 'sure'");
  CHECK(error_of([] {
          load_settings({}, {{"MCPD_DATABASE_URL", "mysql://x"}});
        }) == "MCPD_DATABASE_URL: expected a sqlite:// or postgresql:// URL");
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
