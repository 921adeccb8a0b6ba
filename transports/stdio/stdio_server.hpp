#pragma once
// The stdio transport: newline-delimited JSON-RPC on a pair of file descriptors (stdin and
// stdout of `mcpd serve --stdio`). Framing, I/O and limits only; the protocol is the
// Dispatcher's.
//
//  - Input may be a pipe, a tty or a regular file: a poll()+read() loop that also watches a
//    wake-up eventfd (stop(), SIGTERM/SIGINT).
//  - Quick messages are handled on the reader thread in arrival order; messages for which
//    Dispatcher::may_block() is true run on a bounded worker pool, so a slow tool never
//    delays ping, cancellation or the client's answers to server-to-client requests.
//  - One writer: every message is written whole with a trailing '\n' under a mutex.
//  - Bad lines get JSON-RPC errors (-32700 parse error, -32600 oversized) and serving goes on.
//  - EOF (or a signal): stop reading, answer what was received, and after a grace period
//    cancel what still runs and join the workers. A broken output pipe ends at once.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "core/protocol/call.hpp"
#include "core/protocol/dispatcher.hpp"
#include "core/protocol/session.hpp"

namespace mcpd::transports {

struct StdioOptions {
  int input_fd = 0;
  int output_fd = 1;
  std::size_t max_line_bytes = 4 * 1024 * 1024;    // longer lines are refused (-32600)
  std::size_t max_workers = 8;                     // threads for blocking requests
  std::size_t max_queued = 256;                    // blocking requests waiting for a thread
  std::chrono::milliseconds shutdown_grace{2000};  // after EOF/signal, before cancelling
  bool handle_signals = false;                     // SIGTERM/SIGINT shut down (one server)
  core::Identity identity;                         // the session's initial identity
  // Called every identity_refresh_interval from a timer thread; a returned identity replaces
  // the session's (e.g. MCPD_TOKEN re-validated: revoked tokens stop working).
  std::function<std::optional<core::Identity>()> identity_refresh;
  std::chrono::milliseconds identity_refresh_interval{5000};
};

// Keeps the protocol channel clean: returns a private (close-on-exec) duplicate of fd 1 for
// protocol output and points fd 1 at stderr, so stray prints from anywhere in the process
// land in the log instead of corrupting the JSON-RPC stream. Throws mcpd::Error on failure.
int claim_stdout();

class StdioServer {
 public:
  StdioServer(core::Dispatcher& dispatcher, StdioOptions options = {});
  ~StdioServer();
  StdioServer(const StdioServer&) = delete;
  StdioServer& operator=(const StdioServer&) = delete;

  // Serves until EOF, stop(), a signal (when handled) or a broken output; then shuts down as
  // described above. Returns the process exit code (0). Call once.
  int run();
  // Asks run() to stop reading and shut down. Async-signal-safe; callable from any thread.
  void stop() noexcept;

  core::Session& session();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mcpd::transports
