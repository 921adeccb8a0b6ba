#pragma once
// Each subcommand lives in its own file: setup_<name>() adds it to the CLI and, when it is
// the one chosen on the command line, stores the action that main() runs. main() reads the
// process environment once and hands that snapshot to the action: no subcommand calls getenv
// for a setting.

#include <CLI/CLI.hpp>
#include <functional>

#include "core/config/config.hpp"

namespace mcpd::cmd {

using Action = std::function<int(const core::Environment& env)>;

void setup_serve(CLI::App& app, Action& action);
void setup_check_tools(CLI::App& app, Action& action);
void setup_token(CLI::App& app, Action& action);
void setup_user(CLI::App& app, Action& action);
void setup_client_config(CLI::App& app, Action& action);
void setup_config(CLI::App& app, Action& action);
void setup_version(CLI::App& app, Action& action);

}  // namespace mcpd::cmd
