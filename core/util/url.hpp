#pragma once
// Small, pure helpers on URL strings shared by configuration (which names and masks database
// URLs) and storage (which opens them).

#include <string>

namespace mcpd::core {

// Lower-case scheme before ':' ("" when there is none).
std::string url_scheme(const std::string& url);
// The URL with any password replaced by "***", for messages, logs and `mcpd config show`.
std::string redact_url(const std::string& url);

}  // namespace mcpd::core
