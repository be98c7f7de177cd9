// Waits for PostgreSQL notifications on one channel (LISTEN) on a connection of its own, and runs a callback
// for each wake-up: a notification, the connection coming back (notifications sent while it was down are lost,
// so the callback must then catch up from the tables), and a periodic tick as the safety net.
//
// Thread-safe: start() and stop() may be called from any thread (the destructor stops). The callback runs on the
// listener's own thread, one call at a time; it may touch the database, and a slow callback only delays the next
// wake-up (notifications queue in the connection meanwhile). It must not call stop().
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace gatehouse::host::store {

enum class WakeReason {
  notified,   // NOTIFY on the channel (one call however many arrived together)
  connected,  // the listening connection was (re)established: catch up on what may have been missed
  tick,       // `period` passed without a notification
};
const char* wake_reason_name(WakeReason reason);

struct NotificationListenerOptions {
  std::string channel;                                 // a plain identifier, e.g. gatehouse_control_plane
  std::chrono::milliseconds period{10'000};            // the tick
  std::chrono::milliseconds reconnect_backoff{1'000};  // between failed connection attempts (doubles, ≤ 30 s)
};

class NotificationListener {
 public:
  using Callback = std::function<void(WakeReason)>;
  NotificationListener(std::string connection_string, NotificationListenerOptions options, Callback on_wake);
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // Starts the thread. Connection failures are not errors here: the thread logs and retries.
  Result<void> start();
  // Wakes the thread and joins it; returns at once when not started. Idempotent.
  void stop();
  // Whether the listening connection is up (LISTEN issued). For tests and /readyz-style checks.
  bool listening() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::host::store
