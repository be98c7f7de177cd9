// gatehoused assembled: the database (an existing one, or the embedded default under data_dir), migrations,
// providers from the search paths, the registry, health checks, the grant engine and the HTTP API.
// run() blocks until SIGTERM or SIGINT, then shuts down in order: stop accepting API calls (in-flight ones
// finish), stop the grant engine (transitions in flight finish), stop health checks, stop the embedded
// database. Returns the process exit code.
#pragma once

#include "daemon/daemon_config.hpp"

namespace gatehouse::host::daemon {

// Exit codes: 0 clean stop, 1 could not start (the reason is logged), 3 the config is invalid.
int run_daemon(const DaemonConfig& config);

}  // namespace gatehouse::host::daemon
