#include "daemon/logging.hpp"

#include "daemon/log_escaping.hpp"

#include "logging/log_sinks.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace gatehouse::host::daemon {

void setup_logging(const std::string& format, const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (format == "json") {
    // One object per line, fields (handler, source) as members; runner and provider lines come through the
    // same logger (relayed by isolation/runner_log_relay.hpp), so every line of the log is one JSON object.
    logger = std::make_shared<spdlog::logger>("gatehoused", logging::json_lines_sink(STDERR_FILENO));
  } else {
    logger = spdlog::stderr_color_mt("gatehoused");
    logger->set_formatter(std::make_unique<EscapingFormatter>("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ %&%v"));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace gatehouse::host::daemon
