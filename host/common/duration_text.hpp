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

// "1h30m" → 5400 s; a bare number is seconds. nullopt for anything else, for zero, or past 100 years.
inline std::optional<std::chrono::seconds> parse_duration_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::int64_t kMax = 100LL * 365 * 86400;
  std::int64_t total = 0, number = 0;
  bool have_digits = false, bare = true;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (number > kMax) return std::nullopt;
      number = number * 10 + (c - '0');
      have_digits = true;
      continue;
    }
    if (!have_digits) return std::nullopt;
    std::int64_t unit = 0;
    switch (c) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      default: return std::nullopt;
    }
    if (number > kMax / unit) return std::nullopt;
    total += number * unit;
    number = 0;
    have_digits = false;
    bare = false;
  }
  if (have_digits) {
    if (!bare) return std::nullopt;  // "1h30" is ambiguous: refuse rather than guess
    total = number;
  }
  if (total <= 0 || total > kMax) return std::nullopt;
  return std::chrono::seconds(total);
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
