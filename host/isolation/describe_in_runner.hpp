// Loads and describes a provider file inside a short-lived runner: what load_provider_isolated and the scanner
// both do before trusting a file.
#pragma once

#include "isolation/runner_process.hpp"
#include "isolation/wire.hpp"

namespace gatehouse::host::isolation {

// Starts `command` (its provider field is replaced by the absolute `path`), asks for the description within
// `timeout`, stops the runner. A provider the runner refuses comes back with the in-process loader's code and
// sentence; one that kills or hangs the runner while loading is refused as
//   crashed_while_loading  "provider '/x.so' refused: it crashed while loading (signal 6, Aborted)"
//   exited_while_loading   "provider '/x.so' refused: it exited while loading (exit status 7)"
//   hung_while_loading     "provider '/x.so' refused: it did not finish loading within 2 s (the runner was killed)"
Result<Description> describe_in_runner(const std::filesystem::path& path, RunnerCommand command,
                                       std::chrono::milliseconds timeout);

}  // namespace gatehouse::host::isolation
