// Settings of isolation mode and the health a supervised runner reports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host::isolation {

enum class RunnerState {
  starting,    // spawning, handshake, describe, creating the instance
  running,     // serving calls
  restarting,  // died; the next start is scheduled (backoff)
  down,        // died too often within the restart window; stays down until restart_now()
  stopped,     // shut down by its owner
};

std::string_view runner_state_name(RunnerState state);

struct RunnerHealth {
  RunnerState state = RunnerState::starting;
  bool healthy = false;   // state == running
  std::string reason;     // why not healthy (the sentence of the last death), or what happened last when healthy
  pid_t pid = 0;          // of the running runner; 0 when there is none
  unsigned restarts = 0;  // successful restarts since the instance was created
};

// handler id (as given to ProviderModule::create) and its runner's new health. Called without isolation locks
// held, on whichever thread noticed the change: the runner's watcher, the supervisor's restart thread, or the
// thread of a call that found the runner dead (before that call returns). Keep it short and non-blocking
// (record it, or post it to an executor); never call back into the same client from it.
using HealthCallback = std::function<void(const std::string& handler_id, const RunnerHealth& health)>;

struct IsolationOptions {
  // gatehouse-provider-runner to use. Empty: $GATEHOUSE_PROVIDER_RUNNER, else next to the current executable,
  // else <executable dir>/../libexec/gatehouse/, else the runner of this build tree (see runner_location.hpp).
  std::filesystem::path runner_path;

  std::chrono::milliseconds start_timeout{10'000};  // spawn + handshake + load + describe + create
  std::chrono::milliseconds call_timeout{30'000};   // a call past this kills its runner: "deadline_exceeded"
  std::chrono::milliseconds shutdown_grace{2'000};  // asked to stop → SIGKILL after this long

  // Restart policy: the n-th restart within `restart_window` waits initial_backoff * 2^(n-1), at most
  // max_backoff; a death when max_restarts restarts already happened within the window leaves the runner down.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{30'000};
  unsigned max_restarts = 5;
  std::chrono::milliseconds restart_window{60'000};

  // Per-runner limits, applied by the runner to itself before it loads the provider.
  std::optional<std::uint64_t> memory_limit_bytes;  // RLIMIT_AS (address space, so leave room: 256 MiB+)
  std::optional<std::chrono::seconds> cpu_limit;    // RLIMIT_CPU: CPU seconds over the runner's whole life
  unsigned runner_threads = 8;                      // calls one runner serves concurrently

  HealthCallback on_health;
};

}  // namespace gatehouse::host::isolation
