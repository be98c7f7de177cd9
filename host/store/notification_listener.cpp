#include "store/notification_listener.hpp"

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

namespace gatehouse::host::store {
namespace {

// Counts what arrives; the listener's loop turns a non-zero count into one callback.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel) : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string&, int) override { ++received; }
  int received = 0;
};

}  // namespace

const char* wake_reason_name(WakeReason reason) {
  switch (reason) {
    case WakeReason::notified: return "notified";
    case WakeReason::connected: return "connected";
    case WakeReason::tick: return "tick";
  }
  return "tick";
}

struct NotificationListener::Impl {
  std::string connection_string;
  NotificationListenerOptions options;
  Callback on_wake;
  int wake_fd = -1;  // eventfd: stop() writes it, the loop polls it beside the connection's socket
  std::mutex mutex;  // start/stop
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> up{false};

  // Waits until `fd` is readable, the wake fd is, or `timeout` passes. True when `fd` is readable.
  bool wait(int fd, std::chrono::milliseconds timeout) {
    pollfd fds[2] = {{wake_fd, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
    if (n <= 0) return false;  // timeout, or EINTR: the caller looks at the clock and the stop flag again
    return fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  }

  void call(WakeReason reason) {
    try {
      on_wake(reason);
    } catch (const std::exception& e) {
      spdlog::error("{} listener: the {} callback threw: {}", options.channel, wake_reason_name(reason), e.what());
    }
  }

  void loop() {
    auto backoff = options.reconnect_backoff;
    while (!stopping) {
      std::unique_ptr<pqxx::connection> conn;
      std::unique_ptr<Receiver> receiver;
      try {
        conn = std::make_unique<pqxx::connection>(connection_string);
        receiver = std::make_unique<Receiver>(*conn, options.channel);  // issues LISTEN
        conn->get_notifs();  // the LISTEN is in effect once this returns
      } catch (const std::exception& e) {
        spdlog::warn("{} listener: cannot listen ({}); retrying in {} ms", options.channel, e.what(), backoff.count());
        wait(-1, backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(30));
        continue;
      }
      backoff = options.reconnect_backoff;
      up = true;
      call(WakeReason::connected);  // whatever changed while nobody listened
      auto next_tick = std::chrono::steady_clock::now() + options.period;
      try {
        while (!stopping) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - std::chrono::steady_clock::now());
          const bool readable = wait(conn->sock(), left);
          if (stopping) break;
          receiver->received = 0;
          if (readable) conn->get_notifs();  // throws broken_connection when the server went away
          if (receiver->received > 0) {
            call(WakeReason::notified);
            next_tick = std::chrono::steady_clock::now() + options.period;
          } else if (std::chrono::steady_clock::now() >= next_tick) {
            call(WakeReason::tick);
            next_tick = std::chrono::steady_clock::now() + options.period;
          }
        }
      } catch (const std::exception& e) {
        spdlog::warn("{} listener: the connection broke ({}); listening again", options.channel, e.what());
      }
      up = false;
      receiver.reset();  // before its connection
    }
  }
};

NotificationListener::NotificationListener(std::string connection_string, NotificationListenerOptions options,
                                           Callback on_wake)
    : impl_(std::make_unique<Impl>()) {
  impl_->connection_string = std::move(connection_string);
  impl_->options = std::move(options);
  impl_->on_wake = std::move(on_wake);
}

NotificationListener::~NotificationListener() {
  stop();
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Result<void> NotificationListener::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->thread.joinable()) return {};
  if (impl_->wake_fd < 0) {
    impl_->wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (impl_->wake_fd < 0)
      return make_error(ErrorCode::internal_error, std::string("eventfd: ") + std::strerror(errno));
  }
  impl_->stopping = false;
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
  return {};
}

void NotificationListener::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->thread.joinable()) return;
  impl_->stopping = true;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(impl_->wake_fd, &one, sizeof one);
  impl_->thread.join();
  std::uint64_t drained = 0;
  [[maybe_unused]] const auto read = ::read(impl_->wake_fd, &drained, sizeof drained);
}

bool NotificationListener::listening() const { return impl_->up; }

}  // namespace gatehouse::host::store
