// JSON Schema's name for a value's type, for messages such as "must be a string, not integer". Header-only
// so that the host's schema checks and the API's request parsing (compiled alone by the fuzzer) share it.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace gatehouse::host {

inline std::string json_type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::binary: return "binary";
    default: return "invalid";
  }
}

}  // namespace gatehouse::host
