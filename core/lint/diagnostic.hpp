#pragma once
// A finding about a descriptor file: what check-tools prints and what stops `serve`.

#include <string>
#include <vector>

namespace mcpd::core {

enum class Severity { error, warning };

struct SourceLocation {
  std::string file;  // as given on the command line (or found in a directory)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLocation where;
  std::string message;
  std::string rule;  // stable rule id, e.g. "json-syntax", "unknown-key", "tool-name"
};

inline bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics)
    if (d.severity == Severity::error) return true;
  return false;
}

}  // namespace mcpd::core
