// Log lines are written by gatehoused but carry text others chose: request targets, provider messages, names
// from a caller's body. An spdlog formatter that escapes control characters and ill-formed UTF-8 in the message
// (common/utf8_text.hpp, escape_for_log) before the pattern lays it out, so a message can neither end its line
// early (forging a second one), nor steer a terminal, nor put a NUL in the log file. The JSON format needs no
// such step: JSON escapes control characters itself.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace gatehouse::host::daemon {

// Formats like spdlog::pattern_formatter(pattern). Used by one logger's sink at a time, as spdlog uses
// formatters (each sink owns its clone); not shared across threads by itself.
class EscapingFormatter final : public spdlog::formatter {
 public:
  explicit EscapingFormatter(std::string pattern);
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string pattern_;
  std::unique_ptr<spdlog::formatter> inner_;
};

}  // namespace gatehouse::host::daemon
