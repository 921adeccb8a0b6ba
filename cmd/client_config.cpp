// `mcpd client-config`: prints the configuration snippet an MCP client needs to use this mcpd,
// ready to merge into the client's file. Claude Desktop starts local servers as subprocesses
// ("command", "args", "env"); a remote mcpd is reached through the mcp-remote bridge, which
// sends the bearer token as a header taken from its environment.
//
// The token never comes from the command line (shell history, ps): --token-env names the
// variable that holds it.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <vector>

#include "cmd/commands.hpp"
#include "core/config/error.hpp"

namespace mcpd::cmd {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct ClientConfigOptions {
  std::string client;
  bool stdio = false;
  std::string url;
  std::string token_env;
  std::string name = "mcpd";
  std::vector<std::string> tools;
  std::string config;
  std::string database;
};

// The header variable of the mcp-remote form. The value ("Bearer TOKEN") lives in "env" and
// the argument has no space in it: some clients split arguments on spaces.
constexpr const char* k_header_variable = "MCPD_AUTH_HEADER";

// This very executable, so the client starts the same mcpd (not whatever is first on PATH).
std::string own_path() {
  std::error_code ec;
  const auto path = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) return path.string();
  return "mcpd";
}

// Claude Desktop starts servers from an unspecified directory: paths must be absolute.
std::string absolute_existing(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(what + " '" + path + "' does not exist");
  return fs::weakly_canonical(fs::absolute(path), ec).string();
}

std::string token_from_environment(const std::string& variable, const core::Environment& env) {
  const auto found = env.find(variable);
  if (found == env.end() || found->second.empty())
    throw Error("--token-env: environment variable " + variable + " is not set");
  const std::string& token = found->second;
  for (const char c : token) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw Error("--token-env: the value of " + variable +
                  " contains spaces or control characters; it is not a token");
  }
  return token;
}

bool loopback_url(const std::string& url) {
  const auto start = url.find("://");
  if (start == std::string::npos) return false;
  const std::string rest = url.substr(start + 3);
  for (const char* host : {"localhost", "127.", "[::1]"}) {
    if (rest.rfind(host, 0) == 0) return true;
  }
  return false;
}

json stdio_server(const ClientConfigOptions& options, const core::Environment& env) {
  json args = json::array({"serve", "--stdio"});
  for (const auto& path : options.tools) {
    args.push_back("--tools");
    args.push_back(absolute_existing(path, "--tools"));
  }
  if (!options.config.empty()) {
    args.push_back("--config");
    args.push_back(absolute_existing(options.config, "--config"));
  }
  if (!options.database.empty()) {
    args.push_back("--database");
    args.push_back(options.database);
  }
  json server = {{"command", own_path()}, {"args", args}};
  if (!options.token_env.empty())
    server["env"] = {{"MCPD_TOKEN", token_from_environment(options.token_env, env)}};
  return server;
}

json remote_server(const ClientConfigOptions& options, const core::Environment& env) {
  if (options.url.rfind("https://", 0) != 0 && options.url.rfind("http://", 0) != 0)
    throw Error("--url: expected an http:// or https:// URL, got '" + options.url + "'");
  json args = json::array({"-y", "mcp-remote", options.url});
  // mcp-remote refuses plain HTTP except to localhost unless told otherwise.
  if (options.url.rfind("http://", 0) == 0 && !loopback_url(options.url))
    args.push_back("--allow-http");
  json server = {{"command", "npx"}, {"args", args}};
  if (!options.token_env.empty()) {
    server["args"].push_back("--header");
    server["args"].push_back(std::string("Authorization:${") + k_header_variable + "}");
    server["env"] = {
        {k_header_variable, "Bearer " + token_from_environment(options.token_env, env)}};
  }
  return server;
}

int run_client_config(const ClientConfigOptions& options, const core::Environment& env) {
  if (!options.url.empty() &&
      (!options.tools.empty() || !options.config.empty() || !options.database.empty()))
    throw Error("--tools, --config and --database describe a local server; not with --url",
                k_exit_usage);
  if (options.name.empty()) throw Error("--name: expected a non-empty name", k_exit_usage);
  const json server =
      options.url.empty() ? stdio_server(options, env) : remote_server(options, env);
  const json snippet = {{"mcpServers", {{options.name, server}}}};
  std::cout << snippet.dump(2) << '\n';
  if (options.token_env.empty() && !options.url.empty())
    std::cerr << "mcpd: note: no --token-env given: the snippet sends no bearer token\n";
  if (isatty(STDOUT_FILENO) && !options.token_env.empty())
    std::cerr << "mcpd: note: the snippet contains a token: keep the file private\n";
  return k_exit_ok;
}

}  // namespace

void setup_client_config(CLI::App& app, Action& action) {
  auto options = std::make_shared<ClientConfigOptions>();
  auto* sub = app.add_subcommand("client-config",
                                 "Print the configuration snippet an MCP client needs to use mcpd");
  sub->add_option("--client", options->client, "The client: claude-desktop")
      ->required()
      ->check(CLI::IsMember({"claude-desktop"}));
  auto* transport = sub->add_option_group("transport", "at most one of --stdio, --url");
  transport->add_flag("--stdio", options->stdio,
                      "The client starts 'mcpd serve --stdio' itself (the default)");
  transport->add_option("--url", options->url, "A remote mcpd's Streamable HTTP endpoint")
      ->type_name("URL");
  transport->require_option(0, 1);
  sub->add_option("--token-env", options->token_env,
                  "Environment variable holding the token to put in the snippet")
      ->type_name("NAME");
  sub->add_option("--name", options->name, "The server's key in mcpServers (default mcpd)")
      ->type_name("NAME");
  sub->add_option("--tools", options->tools, "stdio: descriptor file or directory (repeatable)")
      ->type_name("PATH");
  sub->add_option("--config", options->config, "stdio: config file for the server")
      ->type_name("FILE");
  sub->add_option("--database", options->database, "stdio: database URL for the server")
      ->type_name("URL");
  sub->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_client_config(*options, env); };
  });
}

}  // namespace mcpd::cmd
