// mcpd check-tools: lints descriptor files with the same loader `serve` uses, without running
// anything, and reports in text, JSON or SARIF.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cmd/commands.hpp"
#include "core/config/config.hpp"
#include "core/config/error.hpp"
#include "core/descriptors/descriptor.hpp"
#include "core/lint/report.hpp"

namespace mcpd::cmd {

namespace {

namespace fs = std::filesystem;

// An upper bound that only catches typos: descriptions that long are no descriptions.
constexpr std::size_t k_max_description_limit = 1'000'000;

struct CheckToolsOptions {
  std::vector<std::string> paths;
  std::string format = "text";
  std::size_t max_description = core::LoadOptions{}.max_description;
  bool warnings_as_errors = false;
  std::string config;  // --config or MCPD_CONFIG; empty when not given
};

// The parts of mcpd.json(5) that check-tools needs: the upstream names (so unknown ones can
// be reported) and the default `tools` paths. The config file is read by the same code as
// `serve`, so a config that serve would refuse is refused here too.
struct LintConfig {
  std::set<std::string> upstreams;
  std::vector<fs::path> tools;
};

LintConfig read_config(const std::string& file, const core::Environment& env) {
  core::Settings settings;
  core::apply_config_file(settings, file);
  LintConfig config;
  for (const auto& [name, upstream] : settings.upstreams) config.upstreams.insert(name);
  config.tools = settings.tools;
  // DJANGO_BASE_URL defines the upstream "django" on top of the config file (PRODUCT §3).
  // The rest of the environment is serve's business and does not affect linting.
  if (const auto url = env.find("DJANGO_BASE_URL"); url != env.end() && !url->second.empty())
    config.upstreams.insert("django");
  return config;
}

int run_check_tools(CheckToolsOptions options, const core::Environment& env) {
  const auto format = core::parse_report_format(options.format);
  if (!format) throw Error("unknown format '" + options.format + "'", k_exit_usage);

  if (options.config.empty()) {
    if (const auto file = env.find("MCPD_CONFIG"); file != env.end()) options.config = file->second;
  }
  core::LoadOptions load;
  load.max_description = options.max_description;
  std::vector<fs::path> paths(options.paths.begin(), options.paths.end());

  if (!options.config.empty()) {
    LintConfig config = read_config(options.config, env);
    load.upstreams = std::move(config.upstreams);
    load.check_upstreams = true;
    if (paths.empty()) paths = std::move(config.tools);
  }
  if (paths.empty()) {
    throw Error(options.config.empty() ? "no descriptor files given (pass PATH... or --config FILE)"
                                       : "no descriptor files given and config file " +
                                             options.config + " has no 'tools'",
                k_exit_usage);
  }

  const core::LoadResult result = core::load_descriptors(paths, load);
  core::LintReport report{result.files, result.diagnostics};
  if (options.warnings_as_errors) core::promote_warnings(report);

  core::ReportTool tool;
  tool.version = MCPD_VERSION;
#ifdef MCPD_HOMEPAGE_URL
  tool.information_uri = MCPD_HOMEPAGE_URL;
#endif
  core::write_report(std::cout, report, *format, tool);
  std::cout.flush();
  if (!std::cout) throw Error("cannot write the report to standard output");
  return core::count(report, core::Severity::error) > 0 ? k_exit_failure : k_exit_ok;
}

}  // namespace

void setup_check_tools(CLI::App& app, Action& action) {
  auto options = std::make_shared<CheckToolsOptions>();
  auto* sub = app.add_subcommand(
      "check-tools", "Lint tool descriptor files (never runs a handler; see mcpd-check-tools(1))");
  sub->add_option("paths", options->paths,
                  "Descriptor files or directories (every *.json inside); default: the 'tools' "
                  "of the config file")
      ->type_name("PATH");
  sub->add_option("--format", options->format, "Report format")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->default_str("text");
  sub->add_option("--max-description", options->max_description,
                  "Longest allowed description, in characters")
      ->check(CLI::Range(std::size_t{1}, k_max_description_limit))
      ->default_str(std::to_string(options->max_description));
  sub->add_flag("--warnings-as-errors", options->warnings_as_errors,
                "Report warnings as errors (exit 1 on any finding)");
  sub->add_option("--config", options->config,
                  "Config file (else MCPD_CONFIG): its upstreams are checked, its 'tools' are the "
                  "default PATHs")
      ->check(CLI::ExistingFile)
      ->type_name("FILE");
  sub->callback([options, &action] {
    action = [options](const core::Environment& env) { return run_check_tools(*options, env); };
  });
}

}  // namespace mcpd::cmd
