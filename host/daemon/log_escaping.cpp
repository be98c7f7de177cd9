#include "daemon/log_escaping.hpp"

#include "common/utf8_text.hpp"
#include "logging/log_sinks.hpp"

#include <spdlog/pattern_formatter.h>

namespace gatehouse::host::daemon {

EscapingFormatter::EscapingFormatter(std::string pattern)
    : pattern_(std::move(pattern)), inner_(logging::human_formatter(pattern_)) {}  // %& = log fields

void EscapingFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (log_safe(payload)) return inner_->format(msg, dest);  // the common case: no copy
  const std::string escaped = escape_for_log(payload);
  spdlog::details::log_msg copy = msg;
  copy.payload = spdlog::string_view_t(escaped.data(), escaped.size());
  inner_->format(copy, dest);
  // Colour sinks read the range the pattern's %^…%$ marked on the message they passed in.
  msg.color_range_start = copy.color_range_start;
  msg.color_range_end = copy.color_range_end;
}

std::unique_ptr<spdlog::formatter> EscapingFormatter::clone() const {
  return std::make_unique<EscapingFormatter>(pattern_);
}

}  // namespace gatehouse::host::daemon
