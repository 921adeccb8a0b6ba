// mcpd serve: load settings and descriptors, then serve MCP over stdio or HTTP.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "cmd/commands.hpp"
#include "cmd/settings.hpp"
#include "core/auth/authenticator.hpp"
#include "core/config/config.hpp"
#include "core/config/error.hpp"
#include "core/descriptors/descriptor.hpp"
#include "core/handlers/runner.hpp"
#include "core/lint/report.hpp"
#include "core/observability/log.hpp"
#include "core/observability/metrics.hpp"
#include "core/protocol/dispatcher.hpp"
#include "storage/token_store.hpp"
#include "transports/http/http_server.hpp"
#include "transports/stdio/stdio_server.hpp"
#include "transports/upstream/invoker.hpp"

namespace mcpd::cmd {

namespace {

struct ServeOptions {
  bool stdio = false;
  bool http = false;
  core::SettingsFlags flags;
  std::vector<std::string> tools;  // CLI11 fills strings; copied into flags.tools
  std::string config;
  std::string database;
  std::string listen;
  int max_connections = -1;  // -1: not given
  int io_threads = -1;       // -1: not given
};

core::log::Options log_options(const core::Settings& settings, bool stdio) {
  core::log::Options options;
  options.level = settings.log_level;
  // A person reading stderr on stdio; a log collector reading the HTTP service.
  const std::string format =
      settings.log_format.empty() ? (stdio ? "text" : "json") : settings.log_format;
  options.format = core::log::parse_format(format).value_or(core::log::Format::text);
  options.version = settings.version;
  options.environment = settings.environment;
  return options;
}

// Loads every descriptor; any error stops startup with compiler-style diagnostics.
std::shared_ptr<const core::Catalog> load_catalog(const core::Settings& settings) {
  if (settings.tools.empty()) {
    spdlog::warn(
        "no tools path given (--tools or \"tools\" in the config file): serving an "
        "empty catalog");
    auto empty = std::make_shared<core::Catalog>();
    empty->index();
    return empty;
  }
  core::LoadOptions options;
  for (const auto& [name, upstream] : settings.upstreams) options.upstreams.insert(name);
  options.check_upstreams = true;
  auto result = core::load_descriptors(settings.tools, options);
  for (const auto& diagnostic : result.diagnostics) {
    if (diagnostic.severity == core::Severity::error)
      std::cerr << core::format_diagnostic(diagnostic) << '\n';
    else
      spdlog::warn("{}", core::format_diagnostic(diagnostic));
  }
  if (!result.ok()) throw Error("the tool descriptors have errors; nothing was served");
  const auto& catalog = *result.catalog;
  spdlog::info(
      "loaded {} tool(s), {} resource(s), {} resource template(s), {} prompt(s) "
      "from {} file(s)",
      catalog.tools.size(), catalog.resources.size(), catalog.resource_templates.size(),
      catalog.prompts.size(), result.files.size());
  return result.catalog;
}

core::ExecSettings exec_settings(const core::Settings& settings) {
  core::ExecSettings exec;
  exec.scratch_root = settings.scratch_dir;
  exec.scratch_max_age = settings.scratch_max_age;
  exec.scratch_sweep_interval = settings.scratch_sweep_interval;
  return exec;
}

core::DispatcherOptions dispatcher_options(const core::Settings& settings) {
  core::DispatcherOptions options;
  options.info.name = settings.name;
  options.info.title = settings.title;
  options.info.version = settings.version;
  options.info.instructions = settings.instructions;
  options.state_key = settings.state_key;
  options.cache_ttl_ms = settings.cache_ttl.count();
  return options;
}

// HTTP (transports/http): bearer tokens checked against storage unless auth is off, metrics,
// and storage as the readiness check. Blocks until SIGTERM/SIGINT.
int serve_http(const core::Settings& settings, core::Dispatcher& dispatcher,
               const core::Catalog& catalog, transports::upstream::UpstreamInvoker& upstreams) {
  transports::http::HttpServices services{dispatcher};
  if (settings.require_auth) {
    std::shared_ptr<storage::TokenStore> store = open_store(settings);
    // Opaque mcpd_ tokens, and JWTs when auth.jwt is configured.
    services.authenticator = core::auth::make_authenticator(settings, store);
    // Revocations made anywhere clear this replica's auth cache at once (PostgreSQL
    // LISTEN/NOTIFY); the cache lifetime is the fallback, and all there is on SQLite.
    if (store->watch_changes(services.authenticator->cache_invalidator()))
      spdlog::info("auth cache: cleared by the database's change notices");
    services.readiness.push_back({"storage", [store] { return bool(store->ping()); }});
  }
  // Each upstream with a health_path (cached briefly, so probes never hammer it).
  for (const auto& name : upstreams.health_checked())
    services.readiness.push_back(
        {"upstream:" + name, [&upstreams, name] { return upstreams.healthy(name); }});
  services.metrics = std::make_shared<core::Metrics>();
  std::vector<std::string> tools;
  for (const auto& tool : catalog.tools) tools.push_back(tool.name);
  services.metrics->declare_tools(tools);
  core::log::set_batching(true);  // a line per request costs no write(2) of its own
  return transports::http::run_http_server(transports::http::http_settings(settings), services);
}

// stdio with MCPD_TOKEN: resolve the token once (an invalid one stops startup), then every few
// seconds from the transport's timer, so revocation, expiry or a disabled user take effect
// during a long session. Storage trouble later fails closed (no tools) until it recovers.
void use_token_identity(const core::Settings& settings, transports::StdioOptions& stdio) {
  std::shared_ptr<storage::TokenStore> store = open_store(settings);
  // Opaque tokens and JWTs alike, uncached: the transport re-resolves every few seconds. The
  // token is read once for the whole session.
  std::shared_ptr<core::auth::Authenticator> authenticator =
      core::auth::make_authenticator(settings, store, {std::chrono::milliseconds{0}});
  auto credential =
      std::make_shared<const core::auth::Credential>(authenticator->read(settings.token));
  const core::auth::AuthResult first = authenticator->authenticate(*credential);
  if (!first.ok()) {
    throw Error("MCPD_TOKEN: " + std::string(core::auth::describe(first.refusal())),
                first.refused(core::auth::Refusal::unavailable) ? k_exit_storage : k_exit_failure);
  }
  const core::Identity& identity = first.identity();
  spdlog::info("stdio session runs as {} with token '{}'", identity.user.value_or("?"),
               identity.token_name.value_or("?"));
  stdio.identity = identity;
  stdio.identity_refresh = [authenticator, credential]() -> std::optional<core::Identity> {
    return authenticator->authenticate(*credential).session_identity();
  };
}

// Which protocol revisions are spoken and how a client picks one, for `serve --help`.
std::string protocol_footer() {
  auto list = [](const std::vector<std::string>& versions) {
    std::string out;
    for (const auto& v : versions) out += (out.empty() ? "" : ", ") + v;
    return out;
  };
  std::string text = "Protocol versions, on both transports at once; each client picks its era:\n";
  text += "  " + list(core::modern_protocol_versions());
  text +=
      ": per request (params._meta names the version), no initialize, no session;\n"
      "    an exec tool's questions become InputRequiredResult round trips\n"
      "    (set MCPD_STATE_KEY on every replica).\n";
  text += "  " + list(core::legacy_protocol_versions());
  text +=
      ": negotiated by initialize (stdio, or an HTTP Mcp-Session-Id;\n"
      "    legacy SSE for 2024-11-05).\nSee mcpd-serve(1).";
  return text;
}

int run_serve(ServeOptions& options, const core::Environment& env) {
  // Keep stdout for the protocol only, before anything else can print to it.
  const int protocol_fd = options.http ? -1 : transports::claim_stdout();

  // Settings: flags over environment over the config file over defaults.
  auto& flags = options.flags;
  if (!options.config.empty()) flags.config = options.config;
  if (!options.database.empty()) flags.database = options.database;
  if (!options.listen.empty()) flags.listen = options.listen;
  if (options.max_connections >= 0) flags.max_connections = options.max_connections;
  if (options.io_threads >= 0) flags.io_threads = options.io_threads;
  flags.tools.assign(options.tools.begin(), options.tools.end());
  const core::Settings settings = settings_from(flags, env);

  // Logging: stderr only; text by default on stdio, JSON for the HTTP service.
  core::log::setup(log_options(settings, !options.http));
  spdlog::debug("settings: {}", settings.describe().dump());

  // Descriptors: refuse to start on any error.
  auto catalog = load_catalog(settings);

  // Handlers: the exec scratch sweeper runs in the background (on stdio from the first exec
  // call). Upstreams: http handlers call them, on stdio and HTTP alike.
  auto upstreams = std::make_shared<transports::upstream::UpstreamInvoker>(
      settings.upstreams, transports::upstream::address_rules(settings));
  auto runner = std::make_shared<core::HandlerRunner>(exec_settings(settings), upstreams);
  runner->start_sweeper(/*on_first_exec=*/!options.http);

  // The protocol.
  core::Dispatcher dispatcher(catalog, runner, dispatcher_options(settings));
  if (options.http && settings.stateless && settings.state_key.empty())
    spdlog::warn(
        "MCPD_STATE_KEY is not set: a multi round-trip retry (requestState) is accepted "
        "only by the replica that asked; give every replica the same key");
  if (options.http) return serve_http(settings, dispatcher, *catalog, *upstreams);

  // The transport: until EOF or SIGTERM/SIGINT.
  transports::StdioOptions stdio;
  stdio.output_fd = protocol_fd;
  stdio.handle_signals = true;
  // MCPD_TOKEN: the session runs as that token's user and tools, re-checked periodically.
  if (!settings.token.empty()) use_token_identity(settings, stdio);
  transports::StdioServer server(dispatcher, stdio);
  spdlog::info("{} {} serving MCP on stdio", settings.name, settings.version);
  // No log batching on stdio: one client's requests come one at a time, and a writer thread
  // would only add its start and join to a session that should take milliseconds.
  const int status = server.run();
  spdlog::info("stdio session ended");
  ::close(protocol_fd);
  return status;
}

}  // namespace

void setup_serve(CLI::App& app, Action& action) {
  auto options = std::make_shared<ServeOptions>();
  auto* sub = app.add_subcommand("serve", "Serve MCP over stdio (--stdio) or HTTP (--http)");

  auto* transport = sub->add_option_group("transport", "exactly one of --stdio, --http");
  transport->add_flag("--stdio", options->stdio, "Serve one client on stdin/stdout");
  transport->add_flag("--http", options->http, "Serve Streamable HTTP and legacy SSE");
  transport->require_option(1);

  sub->add_option("--tools", options->tools,
                  "Descriptor file or directory (every *.json inside); repeatable")
      ->type_name("PATH");
  sub->add_option("--config", options->config, "Config file (default: $MCPD_CONFIG)")
      ->type_name("FILE");
  sub->add_option("--database", options->database,
                  "Token database URL: sqlite:///path or postgresql://...")
      ->type_name("URL");
  sub->add_option("--listen", options->listen, "HTTP listen address (default 127.0.0.1:8001)")
      ->type_name("HOST:PORT");
  sub->add_flag("--no-auth", options->flags.no_auth,
                "HTTP: serve without authentication (development only)");
  sub->add_flag("--stateless", options->flags.stateless, "HTTP: no Mcp-Session-Id sessions");
  sub->add_option("--allow-origin", options->flags.allowed_origins,
                  "HTTP: an allowed Origin; repeatable")
      ->type_name("ORIGIN");
  sub->add_option("--max-connections", options->max_connections,
                  "HTTP: open connections at most; more are refused with 503 (default: from the "
                  "file descriptor limit)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--io-threads", options->io_threads,
                  "HTTP: I/O threads, each with an event loop of its own (default 0: one per "
                  "core, at most 64)")
      ->type_name("N")
      ->check(CLI::Range(0, core::k_max_io_threads));

  sub->footer(protocol_footer());

  sub->callback([&action, options] {
    action = [options](const core::Environment& env) { return run_serve(*options, env); };
  });
}

}  // namespace mcpd::cmd
