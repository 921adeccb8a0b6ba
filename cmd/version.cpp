#include <iostream>

#include "cmd/commands.hpp"
#include "core/protocol/dispatcher.hpp"

namespace mcpd::cmd {

void setup_version(CLI::App& app, Action& action) {
  auto* sub = app.add_subcommand("version", "Print the version and supported protocol versions");
  sub->callback([&action] {
    action = [](const core::Environment&) {
      std::cout << "mcpd " << MCPD_VERSION << "\nprotocol versions:";
      for (const auto& v : core::all_protocol_versions()) std::cout << ' ' << v;
      std::cout << '\n';
      return 0;
    };
  });
}

}  // namespace mcpd::cmd
