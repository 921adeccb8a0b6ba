#pragma once
// The one exception type for startup, configuration and CLI errors. Caught once in main,
// printed as "mcpd: error: <what>", and mapped to the process exit code.

#include <stdexcept>
#include <string>

namespace mcpd {

enum ExitCode : int {
  k_exit_ok = 0,
  k_exit_failure = 1,  // the user can fix it: bad input, not found
  k_exit_usage = 2,
  k_exit_storage = 3,  // storage unreachable
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = k_exit_failure)
      : std::runtime_error(message), m_exit_code(exit_code) {}
  int exit_code() const noexcept { return m_exit_code; }

 private:
  int m_exit_code;
};

}  // namespace mcpd
