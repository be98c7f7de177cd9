// Keeps one provider instance alive in a runner process: starts the runner, re-creates the instance from its
// stored ConfigureRequest after every restart, restarts a dead runner with exponential backoff up to a limit,
// and reports health on every change. Calls made while the runner is restarting or down fail at once with a
// retryable "unavailable", so the router fails over instead of waiting.
#pragma once

#include "isolation/isolation_options.hpp"
#include "isolation/runner_process.hpp"
#include "loader/provider_client.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gatehouse::host::isolation {

// Thread-safe: call(), health(), restart_now() and stop() may be called from any thread at once; a mutex guards
// the state, and a call waits for its reply outside it. Restarts run on the supervisor's own thread.
class Supervisor {
 public:
  struct Settings {
    RunnerCommand command;
    std::string label;             // "publisher/name@version handler 'id'"
    ProviderIdentity identity;     // what the runner must report after every restart
    std::string handler_id;
    std::string configure_request; // serialized ConfigureRequest
    IsolationOptions options;
  };

  // Starts the first runner and creates the instance; a failure is returned, not retried.
  static Result<std::shared_ptr<Supervisor>> start(Settings settings);
  ~Supervisor();  // stop()
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // One Request in, one Response out (see ProviderClient::call), within `timeout` including any wait for a
  // runner that is starting.
  Result<std::string> call(std::string_view request, std::chrono::milliseconds timeout);

  RunnerHealth health() const;
  // Leaves "down" (or cuts a backoff short): forgets past restarts and starts a runner now.
  void restart_now();
  // Destroys the instance, stops the runner gracefully (SIGKILL after the grace period). Idempotent. A restart
  // in progress is waited for (at most start_timeout), then stopped too.
  void stop();

 private:
  explicit Supervisor(Settings settings);
  Result<std::shared_ptr<RunnerProcess>> launch();
  void on_exit(RunnerProcess& process, const RunnerExit& exit);
  // Both with mutex_ held; they return the health to report once it is released.
  RunnerHealth retire_locked(const std::string& reason);
  RunnerHealth adopt_locked(std::shared_ptr<RunnerProcess> process, bool restart);
  RunnerHealth health_locked() const;
  void report(const RunnerHealth& health) const;
  void loop();

  const Settings settings_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  RunnerState state_ = RunnerState::starting;
  std::shared_ptr<RunnerProcess> current_;               // shared with callers while they wait for a reply
  std::vector<std::shared_ptr<RunnerProcess>> retired_;  // dead; released by the supervisor thread
  std::deque<Clock::time_point> recent_restarts_;
  Clock::time_point next_start_{};
  std::string reason_;
  unsigned restarts_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gatehouse::host::isolation
