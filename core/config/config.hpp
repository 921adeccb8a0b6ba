#pragma once
// Settings: everything an operator can configure, from (highest first) command-line flags,
// the environment, the config file (--config or MCPD_CONFIG) and defaults. Loading is a pure
// function of its inputs (the environment is passed in as a map) so tests never touch the real
// environment. Every problem is an mcpd::Error naming the setting, e.g.
// "config /etc/mcpd/mcpd.json: rate_limit.requests: expected a positive integer".
//
// Secrets (JWT secret, upstream API keys, MCPD_TOKEN) are resolved here but must never be
// logged; describe() prints the settings with them masked.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mcpd::core {

using Environment = std::map<std::string, std::string>;

// A snapshot of this process's environment (environ).
Environment current_environment();

struct UpstreamSettings {
  std::string base_url;                // required; trailing '/' removed
  std::string auth_scheme = "Bearer";  // "Authorization: <scheme> <key>"
  std::string api_key_env;             // name of the variable holding the key
  std::filesystem::path api_key_file;  // or a file holding it (trailing newline stripped)
  std::string api_key;                 // resolved key; empty = no Authorization header
  std::chrono::milliseconds timeout{30000};
  int max_retries = 3;
  int pool_size = 20;
  std::string health_path;  // empty = no upstream health check
  // Extra PEM CA certificates trusted for this upstream (besides the system store): private
  // CAs and tests.
  std::filesystem::path ca_file;
};

struct JwtSettings {
  bool enabled = false;                   // auth.jwt present, or JWT_SECRET set
  std::string algorithm = "HS256";        // HS256 or RS256
  std::string secret_env = "JWT_SECRET";  // HS256: variable holding the shared secret
  std::string secret;                     // resolved HS256 secret (>= 32 characters)
  std::filesystem::path public_key_file;  // RS256: PEM public key
  std::string issuer;                     // empty = not checked
  std::string audience;                   // empty = not checked
  // RFC 9728 resource identifier (this server's URL); empty = the audience when it is an
  // http(s) URL, else derived from each request's Host.
  std::string resource;
};

struct Settings {
  // "server"
  std::string name = "mcpd";
  std::string title;    // optional display name
  std::string version;  // defaults to mcpd's own version
  std::string environment = "production";
  std::string instructions;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8001;
  bool stateless = false;

  std::string database;  // URL; empty: the storage default (storage/database_url.hpp)
  std::vector<std::filesystem::path> tools;

  // "auth"
  bool require_auth = true;
  JwtSettings jwt;

  // "rate_limit": work requests (tools/call, resources/read, prompts/get, completion/complete)
  // per client; `requests` per `window` sustained, up to `burst` at once (0: `requests`).
  int rate_limit_requests = 100;
  std::chrono::seconds rate_limit_window{60};
  int rate_limit_burst = 0;

  std::vector<std::string> allowed_origins;

  // "log": level is an spdlog name (trace..critical, off); format "" = the transport decides.
  std::string log_level = "info";
  std::string log_format;

  std::map<std::string, UpstreamSettings> upstreams;

  // "exec": scratch directories of exec handlers; an empty dir means the built-in default.
  std::filesystem::path scratch_dir;
  std::chrono::seconds scratch_max_age{24 * 3600};
  std::chrono::seconds scratch_sweep_interval{6 * 3600};

  bool debug = false;                 // DEBUG=true: log level debug unless LOG_LEVEL is set
  std::string token;                  // MCPD_TOKEN (stdio identity); secret
  std::string state_key;              // MCPD_STATE_KEY (seals requestState); secret
  std::filesystem::path config_file;  // the file that was read, if any

  std::string listen() const;  // "host:port", IPv6 hosts in brackets
  // The settings as JSON with secrets masked, for `--debug`-style logging.
  nlohmann::json describe() const;
};

// The command-line flags of `mcpd serve` that override settings. Unset = not given.
struct SettingsFlags {
  std::optional<std::filesystem::path> config;
  std::vector<std::filesystem::path> tools;  // replaces the configured list when non-empty
  std::optional<std::string> database;
  std::optional<std::string> listen;  // HOST:PORT
  bool no_auth = false;
  bool stateless = false;
  std::vector<std::string> allowed_origins;  // replaces the configured list when non-empty
};

// defaults -> config file -> environment -> flags, then cross-checks.
Settings load_settings(const SettingsFlags& flags, const Environment& env);

// The individual layers, exposed for tests and for commands that need only part of them.
// `file` names the config file in messages and anchors its relative paths.
void apply_config(Settings& settings, const nlohmann::json& config,
                  const std::filesystem::path& file);
void apply_config_file(Settings& settings, const std::filesystem::path& file);
void apply_environment(Settings& settings, const Environment& env);
void apply_flags(Settings& settings, const SettingsFlags& flags);
// Resolves secrets (JWT secret, API keys) and checks settings against each other.
void finish_settings(Settings& settings, const Environment& env);

// "HOST:PORT" or "[V6]:PORT". Throws mcpd::Error prefixed with `what`.
void parse_listen(const std::string& text, const std::string& what, std::string& host,
                  std::uint16_t& port);
// true/false, 1/0, yes/no, on/off (any case). Throws mcpd::Error prefixed with `what`.
bool parse_bool(const std::string& text, const std::string& what);

}  // namespace mcpd::core
