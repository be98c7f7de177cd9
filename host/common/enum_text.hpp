// How a list of allowed values (a schema's `enum`) is written for people, in every place that shows one:
// `provider inspect`, `target-group show` / `options`, validation faults, route compatibility reports.
// One way everywhere, so an operator can copy a value from any of them: comma-separated, strings as they
// are (no quotes), other values as compact JSON ("member, maintainer"; "1, 2"). Header-only: used by the
// CLI, the schema checks and routing alike.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace gatehouse::host {

inline std::string enum_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

inline std::string enum_text(const nlohmann::json& values) {
  if (!values.is_array()) return enum_value_text(values);
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += enum_value_text(v);
  }
  return out;
}

}  // namespace gatehouse::host
