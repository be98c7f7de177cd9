// gatehoused's log: spdlog to stderr, human lines by default or one JSON object per line ("json") for log
// shippers. Messages never carry secrets: callers log ids, codes and sentences, never configs or tokens.
// Control characters in a message are escaped in either format (log_escaping.hpp; JSON escapes its own), so
// text a caller chose never starts a line of its own.
#pragma once

#include <string>

namespace gatehouse::host::daemon {

// format: "human" | "json"; level: trace|debug|info|warn|error.
void setup_logging(const std::string& format, const std::string& level);

}  // namespace gatehouse::host::daemon
