// mcpd config show: the effective settings, as `serve` would load them from the same flags,
// environment and config file, with where each value came from. Secrets are masked.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "cmd/settings.hpp"
#include "core/config/error.hpp"

namespace mcpd::cmd {

namespace {

struct ConfigShowOptions {
  std::string config;
  std::string database;
  std::vector<std::string> tools;
  bool json = false;
};

// Strings as they are (empty ones as ""), everything else as JSON.
std::string text_of(const nlohmann::ordered_json& value) {
  if (value.is_string() && !value.get<std::string>().empty()) return value.get<std::string>();
  return value.dump();
}

// {"server.listen": {"value": "127.0.0.1:8001", "origin": "env", "source": "PORT"}, ...}
nlohmann::ordered_json json_of(const std::vector<core::ShownSetting>& shown) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& setting : shown) {
    nlohmann::ordered_json entry = {{"value", setting.value},
                                    {"origin", setting.origin.kind_name()}};
    if (!setting.origin.source.empty()) entry["source"] = setting.origin.source;
    out[setting.key] = std::move(entry);
  }
  return out;
}

int run_config_show(const ConfigShowOptions& options, const core::Environment& env) {
  core::SettingsFlags flags;
  if (!options.config.empty()) flags.config = options.config;
  if (!options.database.empty()) flags.database = options.database;
  flags.tools.assign(options.tools.begin(), options.tools.end());
  // The same loading as `serve`: what serve would refuse is refused here (exit 1).
  const auto shown = core::show_settings(settings_from(flags, env));
  if (options.json) {
    std::cout << json_of(shown).dump(2) << '\n';
  } else {
    for (const auto& setting : shown)
      std::cout << setting.key << " = " << text_of(setting.value) << "  (" << setting.origin.text()
                << ")\n";
  }
  std::cout.flush();
  if (!std::cout) throw Error("cannot write to standard output");
  return k_exit_ok;
}

}  // namespace

void setup_config(CLI::App& app, Action& action) {
  auto* config = app.add_subcommand("config", "Inspect the configuration (see mcpd-config(1))");
  config->require_subcommand(1);
  auto options = std::make_shared<ConfigShowOptions>();
  auto* show = config->add_subcommand(
      "show", "Print the effective settings and where each came from (secrets masked)");
  show->add_option("--config", options->config, "Config file (else MCPD_CONFIG)")
      ->type_name("FILE");
  show->add_option("--database", options->database,
                   "Database URL, as given to serve (sqlite:///path or postgresql://...)")
      ->type_name("URL");
  show->add_option("--tools", options->tools,
                   "Descriptor file or directory, as given to serve; repeatable")
      ->type_name("PATH");
  show->add_flag("--json", options->json, "One JSON object: setting -> {value, origin, source}");
  show->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_config_show(*options, env); };
  });
}

}  // namespace mcpd::cmd
