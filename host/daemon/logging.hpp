// gatehoused's log: spdlog to stderr, human lines by default or one JSON object per line ("json") for log
// shippers. Messages never carry secrets: callers log ids, codes and sentences, never configs or tokens.
#pragma once

#include <string>

namespace gatehouse::host::daemon {

// format: "human" | "json"; level: trace|debug|info|warn|error.
void setup_logging(const std::string& format, const std::string& level);

}  // namespace gatehouse::host::daemon
