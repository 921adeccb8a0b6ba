#pragma once
// The PostgreSQL side of TokenStore::watch_changes: a thread with a connection of its own that
// LISTENs on k_change_channel (migration 3's triggers NOTIFY it in the transaction of every
// change that can alter an authentication answer) and hands each payload to the listener.
//
// A lost connection is retried with backoff (250 ms doubling to 5 s); the first loss of an
// outage is logged as a warning, the recovery at info. After every (re)connect the listener
// hears "" (forget everything): notices sent while nobody listened are gone. The caller's cache
// lifetime covers the outage. Dead peers are noticed by TCP keepalives (the store's conninfo)
// and a round trip every 30 s. The connection's application_name is mcpd-auth-notices.

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/auth/token_store.hpp"

namespace mcpd::storage::postgres {

inline constexpr const char* k_change_channel = "mcpd_auth";

class ChangeWatcher {
 public:
  // Starts the thread at once; `display_url` (password redacted) is for the log only.
  ChangeWatcher(std::string conninfo, std::string display_url, core::auth::ChangeListener listener);
  ~ChangeWatcher();  // wakes the thread and joins it
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

 private:
  void run();
  // One connection's life: LISTEN, then dispatch notices until it breaks (throws) or stop.
  void listen_once(bool& was_lost);
  // Waits until `fd` (or, when -1, nothing but the wake-up) is readable or `timeout` passes;
  // false when woken to stop.
  bool wait(int fd, std::chrono::milliseconds timeout);

  std::string m_conninfo;
  std::string m_display_url;
  core::auth::ChangeListener m_listener;
  int m_wake_fd = -1;  // eventfd: written by the destructor
  std::thread m_thread;
};

}  // namespace mcpd::storage::postgres
