// mcpd: one executable, subcommands sharing one core dispatcher.
#include <iostream>

#include "cmd/commands.hpp"
#include "core/observability/log.hpp"
#include "core/config/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"mcpd - a Model Context Protocol server for descriptor-defined tools", "mcpd"};
  app.require_subcommand(1);
  app.fallthrough(false);

  mcpd::cmd::Action action;
  mcpd::cmd::setup_serve(app, action);
  mcpd::cmd::setup_check_tools(app, action);
  mcpd::cmd::setup_token(app, action);
  mcpd::cmd::setup_user(app, action);
  mcpd::cmd::setup_client_config(app, action);
  mcpd::cmd::setup_config(app, action);
  mcpd::cmd::setup_version(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mcpd: error: " << e.what() << " (see 'mcpd --help')\n";
    return mcpd::k_exit_usage;
  }

  try {
    // The one read of the process environment; settings are made from this snapshot.
    return action ? action(mcpd::core::current_environment()) : mcpd::k_exit_usage;
  } catch (const mcpd::Error& e) {
    mcpd::core::log::flush();  // lines logged before the failure come first
    std::cerr << "mcpd: error: " << e.what() << '\n';
    return e.exit_code();
  } catch (const std::exception& e) {
    mcpd::core::log::flush();
    std::cerr << "mcpd: error: " << e.what() << '\n';
    return mcpd::k_exit_failure;
  }
}
