#include "core/lint/report.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <utility>

namespace mcpd::core {

namespace {

using json = nlohmann::ordered_json;

struct RuleInfo {
  std::string_view id;
  std::string_view description;
};

// Every rule the descriptor loader reports (core/descriptors/), with the wording used by
// SARIF viewers and mcpd-check-tools(1). Keep in sync with the man page's rules table.
constexpr std::array k_rules{
    RuleInfo{"json-syntax", "Descriptor file is not valid JSON"},
    RuleInfo{"duplicate-key", "Key appears twice in one JSON object"},
    RuleInfo{"top-level", "Descriptor file is not an object of tools, resources and prompts"},
    RuleInfo{"unknown-key", "Key not defined by the descriptor format"},
    RuleInfo{"missing-file", "File, directory or program does not exist"},
    RuleInfo{"no-descriptors", "Directory holds no *.json descriptor files"},
    RuleInfo{"duplicate-name", "Name or URI declared more than once"},
    RuleInfo{"tool", "Tool entry is malformed"},
    RuleInfo{"tool-name", "Tool name does not match ^[A-Za-z0-9_-]{1,64}$"},
    RuleInfo{"description", "Tool description missing, empty or too long"},
    RuleInfo{"input-schema", "inputSchema is not a valid JSON Schema of type object"},
    RuleInfo{"output-schema", "outputSchema is not a valid JSON Schema of type object"},
    RuleInfo{"required-unknown", "'required' names a property that is not declared"},
    RuleInfo{"annotations", "Tool annotations are malformed"},
    RuleInfo{"handler", "Handler is not exactly one well-formed static, exec or http"},
    RuleInfo{"content", "Content block is malformed"},
    RuleInfo{"unknown-placeholder", "Placeholder names no declared parameter"},
    RuleInfo{"unknown-upstream", "http handler names an upstream that is not configured"},
    RuleInfo{"http-header", "http handler sets a header that mcpd sets itself"},
    RuleInfo{"resource", "Resource is malformed or has not exactly one source"},
    RuleInfo{"resource-template", "Resource template is malformed"},
    RuleInfo{"prompt", "Prompt is malformed"},
    RuleInfo{"unused-argument", "Prompt argument is not used in any message"},
    RuleInfo{"hidden-unicode", "Invisible or bidirectional-control characters in text"},
    RuleInfo{"html-comment", "HTML comment in a description"},
    RuleInfo{"suspicious-instructions", "Instruction-like text in a description"},
    RuleInfo{"destructive-hint", "Destructive-sounding tool without destructiveHint"},
    RuleInfo{"exec-env", "exec handler passes on a secret or a code-loading variable"},
};

// Characters that render as nothing or reorder text; shown escaped so that a report about
// hidden text does not itself hide text.
bool is_invisible(std::uint32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad || c == 0x34f || c == 0x61c ||
         c == 0x115f || c == 0x1160 || c == 0x17b4 || c == 0x17b5 || c == 0x180e ||
         (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
         (c >= 0x2060 && c <= 0x206f) || c == 0x3164 || c == 0xfeff || c == 0xffa0 ||
         (c >= 0xfff9 && c <= 0xfffb) || (c >= 0xe0000 && c <= 0xe007f);
}

// Decodes one UTF-8 sequence at `i`; returns its length, or 0 when malformed.
std::size_t decode_utf8(std::string_view s, std::size_t i, std::uint32_t& c) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  std::size_t len = 0;
  if (b < 0x80) {
    c = b;
    return 1;
  } else if ((b & 0xe0) == 0xc0) {
    c = b & 0x1f;
    len = 2;
  } else if ((b & 0xf0) == 0xe0) {
    c = b & 0x0f;
    len = 3;
  } else if ((b & 0xf8) == 0xf0) {
    c = b & 0x07;
    len = 4;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr std::array<std::uint32_t, 5> k_min{0, 0, 0x80, 0x800, 0x10000};
  if (c < k_min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return len;
}

std::string hex(std::uint32_t value, int digits) {
  static constexpr char k_digits[] = "0123456789ABCDEF";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4)
    out[static_cast<std::size_t>(i)] = k_digits[value & 0xf];
  return out;
}

// Escapes control characters, invisible/bidi code points (as \u{XXXX}) and malformed UTF-8
// (as \xNN); everything else passes through.
std::string escape_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t c = 0;
    const std::size_t len = decode_utf8(s, i, c);
    if (len == 0) {
      out += "\\x" + hex(static_cast<unsigned char>(s[i]), 2);
      ++i;
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_invisible(c)) {
      out += "\\u{" + hex(c, c > 0xffff ? 5 : 4) + "}";
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string_view severity_name(Severity severity) {
  return severity == Severity::error ? "error" : "warning";
}

std::string plural(std::size_t n, std::string_view word) {
  std::string out = std::to_string(n) + ' ' + std::string(word);
  if (n != 1) out += 's';
  return out;
}

// RFC 3986 URI reference for a file path: relative paths stay relative (SARIF resolves them
// against the repository root), absolute ones become file:// URIs.
std::string path_to_uri(std::string_view path) {
  std::string out = path.starts_with('/') ? "file://" : "";
  for (const char ch : path) {
    const auto b = static_cast<unsigned char>(ch);
    const bool keep = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
                      b == '-' || b == '.' || b == '_' || b == '~' || b == '/';
    if (keep) {
      out += ch;
    } else {
      out += '%' + hex(b, 2);
    }
  }
  return out;
}

json dump_safe_string(std::string_view s) {
  // nlohmann refuses to serialize invalid UTF-8; file names may contain it.
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t c = 0;
    const std::size_t len = decode_utf8(s, i, c);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

constexpr const char* k_sarif_schema =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

// A result location: the file as a URI reference, and the region when the position is known
// (SARIF regions are 1-based, so an unknown position has none).
json sarif_location(const SourceLocation& where) {
  json physical = {{"artifactLocation", {{"uri", path_to_uri(where.file)}}}};
  if (where.line > 0) {
    physical["region"] = {{"startLine", where.line}};
    if (where.column > 0) physical["region"]["startColumn"] = where.column;
  }
  return {{"physicalLocation", std::move(physical)}};
}

}  // namespace

std::optional<ReportFormat> parse_report_format(std::string_view name) {
  if (name == "text") return ReportFormat::text;
  if (name == "json") return ReportFormat::json;
  if (name == "sarif") return ReportFormat::sarif;
  return std::nullopt;
}

std::size_t count(const LintReport& report, Severity severity) {
  std::size_t n = 0;
  for (const auto& d : report.diagnostics)
    if (d.severity == severity) ++n;
  return n;
}

void promote_warnings(LintReport& report) {
  for (auto& d : report.diagnostics) d.severity = Severity::error;
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out;
  if (!d.where.file.empty()) {
    out += escape_text(d.where.file);
    if (d.where.line > 0) {
      out += ':' + std::to_string(d.where.line);
      if (d.where.column > 0) out += ':' + std::to_string(d.where.column);
    }
    out += ": ";
  }
  out += severity_name(d.severity);
  out += ": ";
  out += escape_text(d.message);
  if (!d.rule.empty()) out += " [" + escape_text(d.rule) + ']';
  return out;
}

std::string format_summary(const LintReport& report) {
  return plural(count(report, Severity::error), "error") + ", " +
         plural(count(report, Severity::warning), "warning") + " in " +
         plural(report.files.size(), "file");
}

void write_text(std::ostream& out, const LintReport& report) {
  for (const auto& d : report.diagnostics) out << format_diagnostic(d) << '\n';
  out << format_summary(report) << '\n';
}

nlohmann::ordered_json to_json(const LintReport& report) {
  json files = json::array();
  for (const auto& f : report.files) files.push_back(dump_safe_string(f));
  json diagnostics = json::array();
  for (const auto& d : report.diagnostics) {
    diagnostics.push_back({
        {"file", dump_safe_string(d.where.file)},
        {"line", d.where.line > 0 ? json(d.where.line) : json(nullptr)},
        {"column", d.where.column > 0 ? json(d.where.column) : json(nullptr)},
        {"severity", severity_name(d.severity)},
        {"rule", dump_safe_string(d.rule)},
        {"message", escape_text(d.message)},
    });
  }
  return {{"files", std::move(files)},
          {"diagnostics", std::move(diagnostics)},
          {"errors", count(report, Severity::error)},
          {"warnings", count(report, Severity::warning)}};
}

nlohmann::ordered_json to_sarif(const LintReport& report, const ReportTool& tool) {
  json rules = json::array();
  std::map<std::string, std::size_t> rule_index;
  json results = json::array();
  for (const auto& d : report.diagnostics) {
    json result = json::object();
    if (!d.rule.empty()) {
      auto [it, inserted] = rule_index.try_emplace(d.rule, rules.size());
      if (inserted) {
        rules.push_back({{"id", dump_safe_string(d.rule)},
                         {"shortDescription", {{"text", rule_description(d.rule)}}}});
      }
      result["ruleId"] = dump_safe_string(d.rule);
      result["ruleIndex"] = it->second;
    }
    result["level"] = severity_name(d.severity);
    result["message"] = {{"text", escape_text(d.message)}};
    if (!d.where.file.empty()) result["locations"] = json::array({sarif_location(d.where)});
    results.push_back(std::move(result));
  }

  json driver = {{"name", tool.name}};
  if (!tool.version.empty()) driver["version"] = tool.version;
  if (!tool.information_uri.empty()) driver["informationUri"] = tool.information_uri;
  driver["rules"] = std::move(rules);

  json artifacts = json::array();
  for (const auto& f : report.files) artifacts.push_back({{"location", {{"uri", path_to_uri(f)}}}});

  json run = {{"tool", {{"driver", std::move(driver)}}},
              {"artifacts", std::move(artifacts)},
              {"columnKind", "unicodeCodePoints"},  // as the loader counts columns
              {"results", std::move(results)}};
  return {{"$schema", k_sarif_schema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
}

std::string rule_description(std::string_view rule) {
  for (const auto& r : k_rules)
    if (r.id == rule) return std::string(r.description);
  return std::string(rule);
}

void write_report(std::ostream& out, const LintReport& report, ReportFormat format,
                  const ReportTool& tool) {
  switch (format) {
    case ReportFormat::text:
      write_text(out, report);
      return;
    case ReportFormat::json:
      out << to_json(report).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
      return;
    case ReportFormat::sarif:
      out << to_sarif(report, tool).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
      return;
  }
}

}  // namespace mcpd::core
