// Fuzzes descriptor files: each input is written to one temporary tools.json (the loader
// takes paths) and loaded as `serve` and `check-tools` load it, then the check-tools report
// is rendered in every format. Handlers are never run.
//
// Invariants: loading never throws; a catalog comes back even with errors, and a load
// without errors has every tool, resource and prompt findable by name; every diagnostic
// names the file and a rule and has a non-negative position; the JSON and SARIF reports
// serialize (valid UTF-8) and count the errors the loader found; the text report ends with
// the summary line.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <spdlog/spdlog.h>

#include "core/descriptors/descriptor.hpp"
#include "core/lint/report.hpp"

using namespace mcpd::core;
namespace fs = std::filesystem;

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

const fs::path& scratch() {
  static const fs::path dir = [] {
    spdlog::set_level(spdlog::level::off);
    fs::path made =
        fs::temp_directory_path() / ("mcpd-fuzz-descriptors-" + std::to_string(::getpid()));
    fs::create_directories(made / "static");
    std::ofstream(made / "static" / "guide.md") << "# Guide\n";
    std::atexit([] { fs::remove_all(scratch()); });
    return made;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path file = scratch() / "tools.json";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }

  LoadOptions options;
  options.upstreams = {"django"};
  options.check_upstreams = true;
  const LoadResult result = load_descriptors({file}, options);
  check(result.catalog != nullptr, "a catalog comes back even with errors");
  check(result.files.size() == 1, "the one file is reported");
  for (const auto& diagnostic : result.diagnostics) {
    check(!diagnostic.rule.empty(), "every diagnostic has a rule");
    check(!diagnostic.where.file.empty(), "every diagnostic names its file");
    check(diagnostic.where.line >= 0 && diagnostic.where.column >= 0, "positions are not negative");
  }
  if (result.ok()) {
    const Catalog& catalog = *result.catalog;
    for (const auto& tool : catalog.tools)
      check(catalog.find_tool(tool.name) == &tool, "a loaded tool is found by its name");
    for (const auto& resource : catalog.resources)
      check(catalog.find_resource(resource.uri) == &resource, "a loaded resource is found");
    for (const auto& prompt : catalog.prompts)
      check(catalog.find_prompt(prompt.name) == &prompt, "a loaded prompt is found");
    for (const auto& tool : catalog.tools) check(tool.input_schema != nullptr, "tools have schemas");
  }

  LintReport report{result.files, result.diagnostics};
  const std::size_t errors = count(report, Severity::error);
  ReportTool tool;
  tool.version = "fuzz";
  tool.information_uri = "https://example.com/mcpd";
  std::ostringstream text;
  write_report(text, report, ReportFormat::text, tool);
  check(text.str().find(format_summary(report)) != std::string::npos, "the text ends in a summary");
  const auto as_json = to_json(report);
  check(as_json["errors"] == errors, "the JSON report counts the errors");
  const std::string dumped = as_json.dump();  // throws on invalid UTF-8: a crash here
  check(nlohmann::json::parse(dumped)["diagnostics"].size() == report.diagnostics.size(),
        "the JSON report lists every diagnostic");
  (void)to_sarif(report, tool).dump();

  promote_warnings(report);
  check(count(report, Severity::warning) == 0, "no warning is left after promotion");
  return 0;
}
