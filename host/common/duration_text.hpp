// Durations as operators type them ("90s", "15m", "8h", "1d", "1h30m") and as gatehouse prints them.
// Header-only: the CLI, the API and the declarative config all parse with this one function.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host {

// The rules, stated once (docs/api.md and the CLI help repeat them):
//   - a duration is one or more <number><unit> parts, units d, h, m, s, each at most once and largest first
//     ("1h30m", "90s", "1d12h"); the granularity is one second and the minimum is 1s;
//   - a bare number ("3600") is refused: whether it meant seconds or minutes is a guess (programs that count
//     seconds send a JSON integer, which the API and `apply` take as seconds);
//   - past 100 years is refused (no access lasts that long, and the arithmetic stays far from overflow).
inline constexpr std::int64_t kMaxDurationSeconds = 100LL * 365 * 86400;

// The duration, or why not as the end of a sentence about the field ("repeats the unit 'h'"). The fault
// repeats at most one character of the text (or, for a bare number, its digits).
struct DurationParse {
  std::optional<std::chrono::seconds> value;
  std::string fault;
};

inline DurationParse parse_duration_detailed(std::string_view text) {
  static constexpr std::string_view kUnits = "dhms";
  static constexpr std::int64_t kUnitSeconds[] = {86400, 3600, 60, 1};
  const std::string example = "write it as e.g. 90s, 15m, 8h or 1h30m";
  if (text.empty()) return {std::nullopt, "must not be empty; " + example};
  std::int64_t total = 0, number = 0;
  bool have_digits = false, any_unit = false;
  std::size_t next_unit = 0;  // index in kUnits of the smallest unit still allowed
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (number > kMaxDurationSeconds) return {std::nullopt, "is too long (at most 36500d)"};
      number = number * 10 + (c - '0');
      have_digits = true;
      continue;
    }
    const auto unit = kUnits.find(c);
    if (unit == std::string_view::npos) {
      if (c == '-') return {std::nullopt, "must be at least 1s"};
      const bool printable = c > 0x20 && c < 0x7f;
      return {std::nullopt, (printable ? "has an unknown unit '" + std::string(1, c) + "'"
                                       : std::string("has a character that is not a digit or a unit")) +
                                " (units: d, h, m, s); " + example};
    }
    if (!have_digits) return {std::nullopt, "has a unit '" + std::string(1, c) + "' without a number before it; " + example};
    if (unit < next_unit) {
      const bool repeated = text.find(c) != text.rfind(c);
      return {std::nullopt, repeated ? "repeats the unit '" + std::string(1, c) + "'; give each unit once, as in 1h30m"
                                     : "must give its units largest first (d, h, m, s), as in 1h30m"};
    }
    if (number > kMaxDurationSeconds / kUnitSeconds[unit]) return {std::nullopt, "is too long (at most 36500d)"};
    total += number * kUnitSeconds[unit];
    if (total > kMaxDurationSeconds) return {std::nullopt, "is too long (at most 36500d)"};
    number = 0;
    have_digits = false;
    any_unit = true;
    next_unit = unit + 1;
  }
  if (have_digits) {
    if (!any_unit) return {std::nullopt, "needs a unit: " + std::string(text) + "s for seconds, or e.g. 15m, 8h"};
    return {std::nullopt, "ends with a number without a unit; " + example};  // "1h30": minutes or seconds?
  }
  if (total <= 0) return {std::nullopt, "must be at least 1s"};
  return {std::chrono::seconds(total), {}};
}

inline std::optional<std::chrono::seconds> parse_duration_text(std::string_view text) {
  return parse_duration_detailed(text).value;
}

// 5400 s → "1h30m"; 0 → "0s".
inline std::string format_duration(std::chrono::seconds d) {
  std::int64_t s = d.count();
  if (s <= 0) return "0s";
  std::string out;
  for (auto [unit, suffix] : {std::pair<std::int64_t, char>{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}) {
    if (s >= unit) {
      out += std::to_string(s / unit) + suffix;
      s %= unit;
    }
  }
  return out;
}

}  // namespace gatehouse::host
