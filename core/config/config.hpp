#pragma once
// Settings: everything an operator can configure, from (highest first) command-line flags,
// the environment, the config file (--config or MCPD_CONFIG) and defaults. Loading is a pure
// function of its inputs (the environment is passed in as a map) so tests never touch the real
// environment. Every problem is an mcpd::Error naming the setting, e.g.
// "config /etc/mcpd/mcpd.json: rate_limit.requests: expected a positive integer".
//
// The process environment is read once, in main (current_environment()), and handed down:
// nothing below main calls getenv for a setting. Each setting remembers where its value came
// from (Settings::origins), for `mcpd config show`.
//
// Secrets (JWT secret, upstream API keys, MCPD_TOKEN, the token pepper, the state key) are
// resolved here but must never be logged; describe() prints the settings with them masked.

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

// Upstream addresses always refused unless upstream.allow lifts them: the unspecified
// addresses (0.0.0.0 reaches this host), link-local (169.254.169.254 is the metadata service
// of AWS, GCP, Azure, OCI...), EC2's IPv6 metadata address, Alibaba Cloud's metadata address
// and Azure's host endpoint.
inline const std::vector<std::string> k_builtin_upstream_deny = {
    "0.0.0.0/8", "169.254.0.0/16", "100.100.100.200/32", "168.63.129.16/32",
    "::/128",    "fe80::/10",      "fd00:ec2::254/128"};

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

// Where a setting's value came from. `source` names the config file, the variable or the flag
// (for a secret read from a file: that file); empty for defaults.
struct Origin {
  enum class Kind { defaults, file, env, flag };
  Kind kind = Kind::defaults;
  std::string source;

  static Origin from_file(std::string file) { return {Kind::file, std::move(file)}; }
  static Origin from_env(std::string variable) { return {Kind::env, std::move(variable)}; }
  static Origin from_flag(std::string flag) { return {Kind::flag, std::move(flag)}; }
  // "default", "file /etc/mcpd/mcpd.json", "env PORT", "flag --database".
  std::string text() const;
  // "default", "file", "env", "flag".
  const char* kind_name() const;
};

// server.io_threads at most (a typo such as 40000 is refused rather than run).
inline constexpr int k_max_io_threads = 1024;

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
  // ttlMs of cacheable 2026-07-28 results (MCPD_CACHE_TTL_MS, server.cache_ttl_ms).
  std::chrono::milliseconds cache_ttl{60000};
  // The key sealing the requestState of multi round-trip requests, so that replicas sharing it
  // accept each other's state: MCPD_STATE_KEY, else the content of MCPD_STATE_KEY_FILE or
  // server.state_key_file (trailing newline stripped); at least 32 bytes. Empty: a random key
  // per process. Secret.
  std::filesystem::path state_key_file;
  std::string state_key;
  std::filesystem::path port_file;  // MCPD_PORT_FILE: HTTP writes its bound port there
  // HTTP: open connections at most (server.max_connections, MCPD_MAX_CONNECTIONS,
  // --max-connections); 0 = derived from RLIMIT_NOFILE at startup.
  int max_connections = 0;
  // HTTP: I/O threads, each with an event loop of its own (server.io_threads, MCPD_IO_THREADS,
  // --io-threads); 0 = one per core, at most 64. At most k_max_io_threads.
  int io_threads = 0;
  // HTTP deadlines (server.timeouts_ms): first byte to end of headers, end of headers to end of
  // body, keep-alive wait for the next request, and progress of each write.
  struct HttpTimeouts {
    std::chrono::milliseconds header{10000}, body{30000}, idle{60000}, write{30000};
  } http_timeouts;

  // URL. Highest first: --database, MCPD_DATABASE_URL, DATABASE_URL, the config file, then
  // the default sqlite:// file: $STATE_DIRECTORY/mcpd.db under systemd, else
  // $XDG_DATA_HOME/mcpd/mcpd.db, else ~/.local/share/mcpd/mcpd.db. Empty only when none of
  // these can be known (no HOME).
  std::string database;
  // For the default database outside systemd: its directory, created (0700) before opening.
  std::filesystem::path database_directory;
  std::vector<std::filesystem::path> tools;

  // "auth"
  bool require_auth = true;
  JwtSettings jwt;
  // HMAC key for stored token hashes, kept outside the database: MCPD_TOKEN_PEPPER, else the
  // content of MCPD_TOKEN_PEPPER_FILE (trailing newline stripped). Empty: plain SHA-256. Secret.
  std::string token_pepper;

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

  // "upstream": the address guard of http handlers (MCPD_UPSTREAM_DENY/_ALLOW, comma-separated;
  // upstream.deny/allow). IPv4/IPv6 ranges; `deny` adds to k_builtin_upstream_deny, `allow`
  // lifts a refusal. Checked (and refused when malformed) by transports/upstream.
  std::vector<std::string> upstream_deny;
  std::vector<std::string> upstream_allow;

  // "exec": scratch directories of exec handlers. Default: $RUNTIME_DIRECTORY/scratch under
  // systemd, else ${TMPDIR:-/tmp}/mcpd-<uid>.
  std::filesystem::path scratch_dir;
  std::chrono::seconds scratch_max_age{24 * 3600};
  std::chrono::seconds scratch_sweep_interval{6 * 3600};

  bool debug = false;                 // DEBUG=true: log level debug unless LOG_LEVEL is set
  std::string token;                  // MCPD_TOKEN (stdio identity); secret
  std::filesystem::path config_file;  // the file that was read, if any

  // Dotted setting name as describe() names it ("server.listen") -> where its value came
  // from; absent = the default.
  std::map<std::string, Origin> origins;

  std::string listen() const;  // "host:port", IPv6 hosts in brackets
  // The settings as JSON with secrets masked ("***", or null when unset) and passwords in
  // the database URL redacted, for `--debug`-style logging and `mcpd config show`.
  nlohmann::ordered_json describe() const;
  Origin origin(const std::string& key) const;
};

// One line of `mcpd config show`: every leaf of describe(), with its origin.
struct ShownSetting {
  std::string key;  // "server.listen", "upstreams.django.api_key"
  nlohmann::ordered_json value;
  Origin origin;
};
std::vector<ShownSetting> show_settings(const Settings& settings);

// The command-line flags of `mcpd serve` that override settings. Unset = not given.
struct SettingsFlags {
  std::optional<std::filesystem::path> config;
  std::vector<std::filesystem::path> tools;  // replaces the configured list when non-empty
  std::optional<std::string> database;
  std::optional<std::string> listen;  // HOST:PORT
  bool no_auth = false;
  bool stateless = false;
  std::vector<std::string> allowed_origins;  // replaces the configured list when non-empty
  std::optional<int> max_connections;
  std::optional<int> io_threads;
};

struct SettingsOptions {
  // The database URL schemes storage can open (storage::supported_schemes()); a database URL
  // with another scheme is refused naming its origin. Empty: not checked.
  std::vector<std::string> database_schemes;
  // false: the JWT secret, upstream API keys and the state key are not resolved (commands that
  // only need the database and the pepper, such as `mcpd token`, run without them).
  bool resolve_credentials = true;
};

// defaults -> config file -> environment -> flags, then cross-checks.
Settings load_settings(const SettingsFlags& flags, const Environment& env,
                       const SettingsOptions& options = {});

// The individual layers, exposed for tests and for commands that need only part of them.
// `file` names the config file in messages and anchors its relative paths.
void apply_config(Settings& settings, const nlohmann::json& config,
                  const std::filesystem::path& file);
void apply_config_file(Settings& settings, const std::filesystem::path& file);
void apply_environment(Settings& settings, const Environment& env);
void apply_flags(Settings& settings, const SettingsFlags& flags);
// Resolves defaults that depend on the environment and secrets (JWT secret, API keys, pepper,
// state key), and checks settings against each other.
void finish_settings(Settings& settings, const Environment& env,
                     const SettingsOptions& options = {});

// The default database URL and, outside systemd, the directory to create for it; nullopt
// without STATE_DIRECTORY, XDG_DATA_HOME (absolute) or HOME.
struct DefaultDatabase {
  std::string url;
  std::filesystem::path directory;
};
std::optional<DefaultDatabase> default_database(const Environment& env);
// $RUNTIME_DIRECTORY/scratch (first entry) under systemd, else ${TMPDIR:-/tmp}/mcpd-<uid>.
std::filesystem::path default_scratch_dir(const Environment& env);

// "HOST:PORT" or "[V6]:PORT". Throws mcpd::Error prefixed with `what`.
void parse_listen(const std::string& text, const std::string& what, std::string& host,
                  std::uint16_t& port);
// true/false, 1/0, yes/no, on/off (any case). Throws mcpd::Error prefixed with `what`.
bool parse_bool(const std::string& text, const std::string& what);

}  // namespace mcpd::core
