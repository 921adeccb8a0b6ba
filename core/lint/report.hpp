#pragma once
// How `mcpd check-tools` shows what the descriptor loader found: compiler-style text, a JSON
// object, or SARIF 2.1.0 for code-scanning UIs. Pure functions of the diagnostics, so every
// format is testable without running the command.

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/lint/diagnostic.hpp"

namespace mcpd::core {

enum class ReportFormat { text, json, sarif };

std::optional<ReportFormat> parse_report_format(std::string_view name);

struct LintReport {
  std::vector<std::string> files;       // every descriptor file checked
  std::vector<Diagnostic> diagnostics;  // in the loader's order
};

// What SARIF says about the tool that produced the report.
struct ReportTool {
  std::string name = "mcpd";
  std::string version;
  std::string information_uri;  // absolute URI; omitted when empty
};

std::size_t count(const LintReport& report, Severity severity);

// Turns every warning into an error (--warnings-as-errors), so all formats agree on it.
void promote_warnings(LintReport& report);

// One line per diagnostic, GCC style: `file:line:col: error: message [rule]`, shortened to
// `file:line:` or `file:` when the position is unknown. Control and invisible Unicode
// characters in messages are escaped so the report itself cannot hide text.
std::string format_diagnostic(const Diagnostic& diagnostic);
// The closing line: "2 errors, 1 warning in 3 files".
std::string format_summary(const LintReport& report);
// Every diagnostic line, then the summary line.
void write_text(std::ostream& out, const LintReport& report);

// {"files": [...], "diagnostics": [{file, line, column, severity, rule, message}],
//  "errors": N, "warnings": M}; line and column are null when unknown. Keys keep this order
// (ordered_json) so that the report reads well to people too.
nlohmann::ordered_json to_json(const LintReport& report);

// A SARIF 2.1.0 log with one run; the driver lists the rules that fired.
nlohmann::ordered_json to_sarif(const LintReport& report, const ReportTool& tool);

// A one-line description of a rule id, for SARIF and the man page; the id itself when the
// rule is not known to this table.
std::string rule_description(std::string_view rule);

// Renders in `format`; JSON formats are pretty-printed and end with a newline.
void write_report(std::ostream& out, const LintReport& report, ReportFormat format,
                  const ReportTool& tool);

}  // namespace mcpd::core
