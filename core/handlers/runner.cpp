#include "core/handlers/runner.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>
#include <type_traits>

#include "core/handlers/exec.hpp"
#include "core/handlers/static_handler.hpp"

namespace mcpd::core {

namespace {
constexpr std::chrono::seconds k_first_sweep_delay{5};
}  // namespace

json tool_error(const std::string& message) {
  return json{{"content", json::array({{{"type", "text"}, {"text", message}}})}, {"isError", true}};
}

// Sleeps on a condition variable rather than a plain sleep so that the destructor can stop
// it at once.
struct HandlerRunner::Sweeper {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;
};

HandlerRunner::HandlerRunner(ExecSettings settings, std::shared_ptr<HttpInvoker> http)
    : m_settings(std::move(settings)), m_http(std::move(http)) {
  // The settings give the real default (default_scratch_dir in core/config); this is the
  // fallback of a runner made without them.
  if (m_settings.scratch_root.empty())
    m_settings.scratch_root =
        std::filesystem::path("/tmp") / ("mcpd-" + std::to_string(::getuid()));
}

HandlerRunner::~HandlerRunner() {
  if (!m_sweeper) return;
  {
    std::lock_guard lock(m_sweeper->mutex);
    m_sweeper->stop = true;
  }
  m_sweeper->wake.notify_all();
  if (m_sweeper->thread.joinable()) m_sweeper->thread.join();
}

json HandlerRunner::run(const HandlerSpec& spec, const std::filesystem::path& base_dir,
                        const json& arguments, const json& values, CallContext& ctx) {
  try {
    return std::visit(
        [&](const auto& handler) -> json {
          using T = std::decay_t<decltype(handler)>;
          if constexpr (std::is_same_v<T, StaticHandlerSpec>) {
            return run_static(handler, values);
          } else if constexpr (std::is_same_v<T, ExecHandlerSpec>) {
            if (m_sweep_on_first_exec)
              std::call_once(m_sweeper_launched, [this] { launch_sweeper(); });
            return run_exec(handler, base_dir, arguments, values, ctx, m_settings);
          } else {
            if (!m_http) return tool_error("http handler not available");
            return m_http->call(handler, values, ctx);
          }
        },
        spec);
  } catch (const std::exception& e) {
    // Handlers report their own failures as tool errors; anything thrown is a bug or a
    // resource problem whose details stay in the log.
    spdlog::error("handler for '{}' failed: {}", ctx.name, e.what());
    return tool_error("internal error while running the tool");
  }
}

void HandlerRunner::start_sweeper(bool on_first_exec) {
  if (on_first_exec) {
    m_sweep_on_first_exec = true;
    return;
  }
  std::call_once(m_sweeper_launched, [this] { launch_sweeper(); });
}

void HandlerRunner::launch_sweeper() {
  m_sweeper = std::make_unique<Sweeper>();
  m_sweeper->thread = std::thread([this, sweeper = m_sweeper.get()] {
    std::unique_lock lock(sweeper->mutex);
    // Leftovers of a previous run (a crash, a SIGKILL) go soon after startup, but not at once:
    // a short-lived process (a stdio session is often a few milliseconds) would otherwise wait
    // at exit for a sweep of a scratch root that many runs share.
    sweeper->wake.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                                     k_first_sweep_delay, m_settings.scratch_sweep_interval),
                           [sweeper] { return sweeper->stop; });
    while (!sweeper->stop) {
      lock.unlock();
      sweep_once();
      lock.lock();
      sweeper->wake.wait_for(lock, m_settings.scratch_sweep_interval,
                             [sweeper] { return sweeper->stop; });
    }
  });
}

std::size_t HandlerRunner::sweep_once() {
  std::error_code ec;
  if (!std::filesystem::is_directory(m_settings.scratch_root, ec)) return 0;
  try {
    const std::size_t removed = sweep_scratch(m_settings.scratch_root, m_settings.scratch_max_age);
    if (removed > 0)
      spdlog::info("removed {} stale scratch entries from {}", removed,
                   m_settings.scratch_root.string());
    return removed;
  } catch (const std::exception& e) {
    spdlog::warn("scratch sweep of {} failed: {}", m_settings.scratch_root.string(), e.what());
    return 0;
  }
}

}  // namespace mcpd::core
