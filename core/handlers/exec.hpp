#pragma once
// The exec handler: one child process per call (posix_spawn, never a shell), in its own
// process group and private scratch directory, with stdin/stdout/stderr pipes driven by one
// poll() loop that also watches the call's CancelToken and deadline.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/protocol/call.hpp"
#include "core/descriptors/descriptor.hpp"
#include "core/handlers/runner.hpp"

namespace mcpd::core {

// Runs `spec` for one call and returns a CallToolResult (tool errors for every failure:
// spawn error, non-zero exit, timeout, cancellation, oversized or malformed output).
nlohmann::json run_exec(const ExecHandlerSpec& spec, const std::filesystem::path& base_dir,
                        const nlohmann::json& arguments, const nlohmann::json& values,
                        CallContext& ctx, const ExecSettings& settings);

// Removes entries of `root` whose modification time is older than `max_age`.
std::size_t sweep_scratch(const std::filesystem::path& root, std::chrono::seconds max_age);

}  // namespace mcpd::core
