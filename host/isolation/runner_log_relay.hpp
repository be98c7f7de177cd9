// What a runner writes to its stderr becomes lines of the host's own log, in the host's format (human or
// JSON lines, host/logging), each tagged with the handler the runner serves and the runner's pid:
//   * the runner's own log and the provider's log calls arrive as JSON lines (the runner always logs JSON to
//     the host, runner_main.cpp) and keep their level and source ("runner" or "provider");
//   * anything else — a provider's stray printf, a C runtime's abort message — is one "provider-output"
//     warning per line.
// So with `logging.format: json` every line gatehoused's stderr receives is one JSON object, and the runner's
// pid, the handler id and the source are fields, never text a provider could forge: a provider may write
// JSON lines of its own, but only their level, message and source are taken.
//
// Threads: one relay per runner, fed by one thread at a time (the runner's watcher, or the starter before
// the watcher exists). It logs through spdlog's default logger, which is thread-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace gatehouse::host::isolation {

class RunnerLogRelay {
 public:
  RunnerLogRelay(std::string handler_id, pid_t pid);

  // Bytes read from the runner's stderr: complete lines are logged, a partial one is kept for the next call
  // (up to kMaxLine bytes; a longer line is logged in pieces).
  void feed(std::string_view bytes);
  // The runner is gone: log what is left of a last, unterminated line.
  void finish();

  static constexpr std::size_t kMaxLine = 64 * 1024;

 private:
  void emit(std::string_view line) const;

  std::string handler_id_;
  std::string pid_;
  std::string partial_;
};

}  // namespace gatehouse::host::isolation
