// The host's side of ONE gatehouse-provider-runner process: spawns it on a socketpair, checks its handshake,
// sends requests and matches replies by request id, notices its death at once and says how it died. One
// process lifetime only: restarting is the supervisor's job (supervisor.hpp).
//
// Threads: there is no reader thread on the call path. A caller waiting for a reply reads the socket itself
// when nobody else is (leader/followers): it dispatches every reply it finds, and when its own has arrived it
// hands the reading duty to another waiting caller. A lone caller thus costs no thread hop at all. A watcher
// thread sleeps on the runner's pidfd (and on the socket's hang-up) so that a death is noticed at once even
// when no call is in flight; it also reads the runner's stderr (a pipe) and relays each line into the host's
// log (runner_log_relay.hpp).
//
// The runner starts with a minimal environment (runner_environment.hpp), never the host's.
#pragma once

#include "common/result.hpp"
#include "isolation/runner_log_relay.hpp"
#include "isolation/wire.hpp"

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace gatehouse::host::isolation {

using Clock = std::chrono::steady_clock;

// How to start a runner: which executable, which provider file, which limits.
struct RunnerCommand {
  std::filesystem::path runner;
  std::filesystem::path provider;
  std::optional<std::uint64_t> memory_limit_bytes;  // RLIMIT_AS, applied by the runner before it loads the provider
  std::optional<std::uint64_t> cpu_limit_seconds;   // RLIMIT_CPU (a budget for the runner's whole life)
  unsigned threads = 8;                             // calls one runner serves at once
  std::chrono::milliseconds grace{2000};            // asked to stop (or EOF) → SIGKILL after this long
  std::string handler_id;                           // the "handler" field of its relayed log lines ("" for scans)
};

// How a runner process ended.
struct RunnerExit {
  int wait_status = 0;
  bool during_call = false;    // requests were waiting for replies when it died
  bool requested = false;      // the host asked it to stop (shutdown): not a failure
  std::string killed_because;  // set when the host killed it (deadline, protocol violation, did not stop)
  // "provider runner for <label> (pid N) died with signal 11 (Segmentation fault) during a call"
  std::string sentence;
};

// Threads (see the top of this file): request(), request_until(), kill(), exit_info() and the getters may be
// called from any thread at once. shutdown() and the destructor belong to the owner, one thread at a time.
class RunnerProcess {
 public:
  // Called once, after the process was reaped and before the requests that were waiting fail (so the owner
  // knows first), on the watcher thread or on a caller's thread. It must not destroy this RunnerProcess (hand it
  // to another thread instead) nor make a request of it.
  using ExitHandler = std::function<void(RunnerProcess&, const RunnerExit&)>;

  // Spawns the runner and reads its handshake line before `deadline`. Errors: "runner_unavailable" (cannot
  // execute it), "runner_start_failed" (it died or stayed silent before its handshake),
  // "runner_handshake_failed" / "runner_protocol_mismatch" (wire.hpp). `label` names the provider (and handler)
  // in sentences.
  static Result<std::unique_ptr<RunnerProcess>> start(const RunnerCommand& command, std::string label,
                                                      Clock::time_point deadline, ExitHandler on_exit = {});
  // shutdown() unless already done.
  ~RunnerProcess();
  RunnerProcess(const RunnerProcess&) = delete;
  RunnerProcess& operator=(const RunnerProcess&) = delete;

  // One request and its reply, thread-safe. Returns the reply_ok payload; a reply_error's Error as sent; when the
  // runner dies first, "transport_failed" with RunnerExit::sentence; when no reply comes within `timeout`, kills
  // the runner and returns "deadline_exceeded". A payload over kMaxFramePayload is "request_too_large".
  Result<std::string> request(FrameKind kind, std::uint64_t instance_id, std::string_view payload,
                              std::chrono::milliseconds timeout);
  // The same with an absolute deadline; `budget` is the timeout the caller was given (for the sentence).
  Result<std::string> request_until(FrameKind kind, std::uint64_t instance_id, std::string_view payload,
                                    Clock::time_point deadline, std::chrono::milliseconds budget);

  // SIGKILL now (no-op once reaped); `reason` ends up in RunnerExit::killed_because.
  void kill(const std::string& reason);
  // Graceful stop: closes our sending side (the runner destroys its instances and exits), waits up to the grace
  // period, then SIGKILL. Blocks until the process is reaped. Idempotent.
  void shutdown();

  pid_t pid() const { return pid_; }
  const Handshake& handshake() const { return handshake_; }
  const std::string& label() const { return label_; }
  std::optional<RunnerExit> exit_info() const;

 private:
  struct Pending;
  enum class ReadOutcome { progress, timeout, ended };
  RunnerProcess(pid_t pid, int fd, int pidfd, int log_fd, std::string label, std::string handler_id,
                std::chrono::milliseconds grace);

  // With the reading duty (reading_) held and mutex_ not held:
  ReadOutcome read_some(Clock::time_point deadline);
  void end();  // the runner ended (or must): take what it sent, reap it, finish
  // With mutex_ held:
  bool dispatch_locked();  // false on a protocol violation (the runner is then being killed)
  void hand_over_reading_locked();
  void kill_locked(const std::string& reason);

  void watch();
  bool relay_some();    // reads what the runner's stderr holds now; false at its end
  void relay_rest();    // the runner ended: what is left, bounded
  void reap();
  void finish(int wait_status);
  bool send_frame(FrameKind kind, std::uint64_t request_id, std::uint64_t instance_id, std::string_view payload,
                  Clock::time_point deadline);
  std::string who() const;

  const pid_t pid_;
  const int fd_;
  const int pidfd_;  // -1 when the kernel has no pidfd_open
  const int log_fd_;  // read end of the runner's stderr (non-blocking); read by the watcher only
  RunnerLogRelay relay_;  // the watcher's
  const std::string label_;
  const std::chrono::milliseconds grace_;
  Handshake handshake_;
  ExitHandler on_exit_;

  std::atomic<std::uint64_t> next_request_{1};
  std::mutex write_mutex_;  // guards writing_ (a timed wait on a flag: TSan cannot see timed_mutex's clocklock)
  std::condition_variable write_cv_;
  bool writing_ = false;

  // Owned by whoever holds the reading duty.
  std::vector<char> buffer_;
  std::size_t have_ = 0;

  mutable std::mutex mutex_;  // everything below
  std::condition_variable exited_cv_;
  std::condition_variable watcher_cv_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Pending>> pending_;
  bool reading_ = false;          // someone holds the reading duty
  bool watcher_waiting_ = false;  // the watcher saw the end and waits for the reading duty
  bool ending_ = false;           // someone is taking the runner's last words and reaping it
  bool reaped_ = false;           // waitpid done: the pid may belong to someone else now
  bool stop_requested_ = false;
  bool exit_handled_ = false;     // the exit handler returned
  std::string killed_because_;
  std::optional<RunnerExit> exit_;

  std::thread watcher_;
};

}  // namespace gatehouse::host::isolation
