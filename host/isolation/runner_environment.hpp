// The environment a provider runner starts with. gatehoused's own environment holds every handler's env:
// secrets (and the API's, the database's); a runner inheriting it would let any isolated provider read all
// of them from /proc/<runner>/environ. A runner gets only what a process needs to run: PATH, the locale
// (LANG, LANGUAGE, LC_*) and TZ. Secrets reach a provider only through its resolved config.
//
// Threads: pure functions of their arguments; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::isolation {

// Whether a variable of this name is passed to runners.
bool passed_to_runner(std::string_view name);

// The "NAME=value" entries of `environment` (a NULL-terminated environ-style array) that pass
// passed_to_runner(), in their order; PATH=/usr/local/bin:/usr/bin:/bin when it has no PATH.
std::vector<std::string> runner_environment(char* const* environment);

}  // namespace gatehouse::host::isolation
