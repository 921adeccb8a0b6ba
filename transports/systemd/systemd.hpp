#pragma once
// The two systemd protocols mcpd speaks, implemented directly (no libsystemd):
//  - sd_notify: datagrams such as "READY=1", "STOPPING=1", "WATCHDOG=1" to $NOTIFY_SOCKET (a
//    path, or "@name" in the abstract namespace), for Type=notify units and the watchdog;
//  - socket activation: sockets passed as fds 3.. with $LISTEN_FDS, meant for us when
//    $LISTEN_PID is our pid.
// Outside systemd (variables unset) every function is a harmless no-op.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpd::transports::systemd {

// The first fd passed by socket activation (SD_LISTEN_FDS_START).
inline constexpr int k_listen_fds_start = 3;

// Sends `state` to the service manager. False when $NOTIFY_SOCKET is unset or sending failed.
bool notify(std::string_view state);
// The same, to an explicit socket address (tests).
bool notify_to(std::string_view socket, std::string_view state);

// How often to send WATCHDOG=1: half of $WATCHDOG_USEC, when set and $WATCHDOG_PID (if set)
// is this process. nullopt when the watchdog is off.
std::optional<std::chrono::microseconds> watchdog_interval();
// The pure part, for tests: the variables' values (null when unset) and our pid.
std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid,
                                                           long self);

// How many sockets systemd passed us: $LISTEN_FDS when $LISTEN_PID is `self`, else 0.
// Malformed values count as 0.
int listen_fds_count(const char* listen_pid, const char* listen_fds, long self);

// The passed sockets (fds 3..3+n-1), marked close-on-exec so tool processes never inherit
// them. The LISTEN_* variables are removed from the environment (as sd_listen_fds(1) does), so
// children cannot mistake the sockets for theirs. Call once, before starting threads.
std::vector<int> take_listen_fds();

}  // namespace mcpd::transports::systemd
