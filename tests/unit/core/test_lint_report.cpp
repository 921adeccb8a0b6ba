#include <catch2/catch.hpp>
#include <sstream>

#include "core/lint/report.hpp"

using namespace mcpd::core;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

Diagnostic diag(Severity severity, std::string file, int line, int column, std::string message,
                std::string rule) {
  return Diagnostic{severity, SourceLocation{std::move(file), line, column}, std::move(message),
                    std::move(rule)};
}

LintReport sample() {
  LintReport report;
  report.files = {"tools/a.json", "tools/b.json"};
  report.diagnostics = {
      diag(Severity::error, "tools/a.json", 3, 14, "unknown key 'nme'", "unknown-key"),
      diag(Severity::warning, "tools/b.json", 7, 5, "tool 'delete_user' has no destructiveHint",
           "destructive-hint"),
      diag(Severity::error, "tools/b.json", 0, 0, "cannot read file", "missing-file"),
      diag(Severity::error, "tools/b.json", 9, 3, "duplicate tool 'x'", "unknown-key"),
  };
  return report;
}

}  // namespace

TEST_CASE("text diagnostics are GCC style", "[core][lint]") {
  const auto report = sample();
  CHECK(format_diagnostic(report.diagnostics[0]) ==
        "tools/a.json:3:14: error: unknown key 'nme' [unknown-key]");
  CHECK(format_diagnostic(report.diagnostics[1]) ==
        "tools/b.json:7:5: warning: tool 'delete_user' has no destructiveHint [destructive-hint]");
  CHECK(format_diagnostic(report.diagnostics[2]) ==
        "tools/b.json: error: cannot read file [missing-file]");
  CHECK(format_diagnostic(diag(Severity::error, "f.json", 4, 0, "m", "r")) ==
        "f.json:4: error: m [r]");
  CHECK(format_diagnostic(diag(Severity::error, "", 0, 0, "no file", "")) == "error: no file");
}

TEST_CASE("text report ends with a summary line", "[core][lint]") {
  std::ostringstream out;
  write_text(out, sample());
  const std::string text = out.str();
  CHECK(text.find("tools/a.json:3:14: error: unknown key 'nme' [unknown-key]\n") == 0);
  CHECK(text.ends_with("\n3 errors, 1 warning in 2 files\n"));

  LintReport clean;
  clean.files = {"one.json"};
  std::ostringstream out2;
  write_text(out2, clean);
  CHECK(out2.str() == "0 errors, 0 warnings in 1 file\n");
}

TEST_CASE("invisible characters in messages are escaped", "[core][lint]") {
  // U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE, a newline, a tag character and a
  // stray continuation byte.
  const auto d = diag(Severity::warning, "a.json", 1, 1,
                      "text \xE2\x80\xAE"
                      "abc\xE2\x80\x8B\nnext \xF3\xA0\x80\x81 \x80 caf\xC3\xA9",
                      "hidden-unicode");
  CHECK(format_diagnostic(d) ==
        "a.json:1:1: warning: text \\u{202E}abc\\u{200B}\\nnext \\u{E0001} \\x80 caf\xC3\xA9 "
        "[hidden-unicode]");
  const json j = to_json(LintReport{{"a.json"}, {d}});
  CHECK(j["diagnostics"][0]["message"] ==
        "text \\u{202E}abc\\u{200B}\\nnext \\u{E0001} \\x80 caf\xC3\xA9");
}

TEST_CASE("json report", "[core][lint]") {
  const json j = to_json(sample());  // compared as plain json: key order aside
  CHECK(j["files"] == json({"tools/a.json", "tools/b.json"}));
  CHECK(j["errors"] == 3);
  CHECK(j["warnings"] == 1);
  REQUIRE(j["diagnostics"].size() == 4);
  CHECK(j["diagnostics"][0] == json({{"file", "tools/a.json"},
                                     {"line", 3},
                                     {"column", 14},
                                     {"severity", "error"},
                                     {"rule", "unknown-key"},
                                     {"message", "unknown key 'nme'"}}));
  CHECK(j["diagnostics"][2]["line"].is_null());
  // Keys in the documented order, for people reading the report.
  const std::string text = to_json(sample()).dump();
  CHECK(text.rfind(R"({"files":)", 0) == 0);
  CHECK(text.find(R"({"file":"tools/a.json","line":3,"column":14,"severity":"error",)") !=
        std::string::npos);
  CHECK(j["diagnostics"][2]["column"].is_null());

  // The rendered form round-trips even with invalid UTF-8 in a file name.
  LintReport odd{{"bad\xFF.json"}, {diag(Severity::error, "bad\xFF.json", 1, 1, "m", "r")}};
  std::ostringstream out;
  write_report(out, odd, ReportFormat::json, {});
  const json parsed = json::parse(out.str());
  CHECK(parsed["files"][0] == "bad\xEF\xBF\xBD.json");
}

TEST_CASE("sarif report", "[core][lint]") {
  ReportTool tool{"mcpd", "1.2.3", "https://example.org/mcpd"};
  const json s = to_sarif(sample(), tool);
  CHECK(s["version"] == "2.1.0");
  CHECK(s["$schema"].get<std::string>().find("sarif") != std::string::npos);
  REQUIRE(s["runs"].size() == 1);
  const json& run = s["runs"][0];
  const json& driver = run["tool"]["driver"];
  CHECK(driver["name"] == "mcpd");
  CHECK(driver["version"] == "1.2.3");
  CHECK(driver["informationUri"] == "https://example.org/mcpd");

  // Only the rules that fired, each once, in order of first appearance.
  REQUIRE(driver["rules"].size() == 3);
  CHECK(driver["rules"][0]["id"] == "unknown-key");
  CHECK(driver["rules"][0]["shortDescription"]["text"] == rule_description("unknown-key"));
  CHECK(driver["rules"][1]["id"] == "destructive-hint");
  CHECK(driver["rules"][2]["id"] == "missing-file");

  const json& results = run["results"];
  REQUIRE(results.size() == 4);
  CHECK(results[0]["ruleId"] == "unknown-key");
  CHECK(results[0]["ruleIndex"] == 0);
  CHECK(results[0]["level"] == "error");
  CHECK(results[0]["message"]["text"] == "unknown key 'nme'");
  const json& loc = results[0]["locations"][0]["physicalLocation"];
  CHECK(loc["artifactLocation"]["uri"] == "tools/a.json");
  CHECK(loc["region"]["startLine"] == 3);
  CHECK(loc["region"]["startColumn"] == 14);
  CHECK(results[1]["level"] == "warning");
  CHECK(results[3]["ruleIndex"] == 0);
  // Unknown position: a location without a region (SARIF regions are 1-based).
  CHECK_FALSE(results[2]["locations"][0]["physicalLocation"].contains("region"));

  CHECK(run["artifacts"].size() == 2);
  CHECK(run["columnKind"] == "unicodeCodePoints");
  CHECK(to_sarif(sample(), tool).dump().rfind(R"({"$schema":)", 0) == 0);
}

TEST_CASE("sarif artifact URIs are URI references", "[core][lint]") {
  LintReport report{{"my tools/a#1.json", "/abs/x.json"},
                    {diag(Severity::error, "my tools/a#1.json", 1, 1, "m", "r"),
                     diag(Severity::error, "/abs/x.json", 1, 1, "m", "r")}};
  const json s = to_sarif(report, {});
  const json& results = s["runs"][0]["results"];
  CHECK(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "my%20tools/a%231.json");
  CHECK(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
        "file:///abs/x.json");
  CHECK_FALSE(s["runs"][0]["tool"]["driver"].contains("informationUri"));
}

TEST_CASE("warnings as errors and format names", "[core][lint]") {
  auto report = sample();
  promote_warnings(report);
  CHECK(count(report, Severity::warning) == 0);
  CHECK(count(report, Severity::error) == 4);
  CHECK(format_summary(report) == "4 errors, 0 warnings in 2 files");

  CHECK(parse_report_format("text") == ReportFormat::text);
  CHECK(parse_report_format("json") == ReportFormat::json);
  CHECK(parse_report_format("sarif") == ReportFormat::sarif);
  CHECK_FALSE(parse_report_format("xml"));
  CHECK(rule_description("no-such-rule") == "no-such-rule");
}
