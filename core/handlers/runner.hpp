#pragma once
// Runs a handler (static, exec, http) for a tool call or a resource read. The dispatcher owns
// one HandlerRunner; transports never see it.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/descriptors/descriptor.hpp"
#include "core/protocol/call.hpp"

namespace mcpd::core {

struct ExecSettings {
  // Root of the per-call scratch directories (Settings::scratch_dir; empty: /tmp/mcpd-<uid>).
  // Created 0700 on first use.
  std::filesystem::path scratch_root;
  std::chrono::seconds scratch_max_age{24 * 3600};        // leftovers older than this...
  std::chrono::seconds scratch_sweep_interval{6 * 3600};  // ...are removed this often
  std::chrono::milliseconds kill_grace{2000};             // SIGTERM → SIGKILL of a group
};

// Executes http handler specs; provided by the upstream client (transports/upstream). Without one,
// http handlers answer with a tool error.
class HttpInvoker {
 public:
  virtual ~HttpInvoker() = default;
  virtual json call(const HttpHandlerSpec& spec, const json& values, CallContext& ctx) = 0;
};

class HandlerRunner {
 public:
  explicit HandlerRunner(ExecSettings settings, std::shared_ptr<HttpInvoker> http = nullptr);
  ~HandlerRunner();  // stops the sweeper

  // Runs `spec` with `arguments` (already validated, defaults applied; `values` holds every
  // declared parameter, absent ones as null, for placeholders). Returns a CallToolResult
  // object: {"content": [...], "structuredContent"?: {...}, "isError"?: true}.
  // Never throws for handler failures: they become {"isError": true} results.
  json run(const HandlerSpec& spec, const std::filesystem::path& base_dir, const json& arguments,
           const json& values, CallContext& ctx);

  // Starts the background sweep of old scratch leftovers (idempotent): now, or with the first
  // exec call when `on_first_exec` (a stdio session is often a few milliseconds long and may
  // never run one; its thread would only cost startup and exit).
  void start_sweeper(bool on_first_exec = false);
  // One sweep now; returns how many entries were removed.
  std::size_t sweep_once();

  const ExecSettings& settings() const { return m_settings; }

 private:
  struct Sweeper;
  ExecSettings m_settings;
  std::shared_ptr<HttpInvoker> m_http;
  void launch_sweeper();

  std::unique_ptr<Sweeper> m_sweeper;
  std::once_flag m_sweeper_launched;
  bool m_sweep_on_first_exec = false;  // set at startup, before any call
};

// A tool error result: {"content":[{"type":"text","text":message}],"isError":true}.
json tool_error(const std::string& message);

}  // namespace mcpd::core
