// The limits a provider schema may put on a value: `enum`, `pattern`, `minLength` / `maxLength` for text,
// `minimum` / `maximum` for integers, and the types of target properties (string, integer, boolean).
// One implementation for config fields and target properties, so both mean the same:
//   pattern    RE2 syntax (https://github.com/google/re2/wiki/Syntax: no backreferences, no lookaround; linear
//              time whatever the input). As in JSON Schema it matches anywhere in the value unless anchored
//              with ^ and $.
//   lengths    in characters (Unicode code points), as in JSON Schema.
// Target property values travel to providers as text: an integer in plain decimal ("-12", "5432"; no '+',
// no leading zeros, within 64 bits), a boolean as "true" or "false".
// Plain functions over immutable inputs: safe to call from any thread.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::host {

// Why `pattern` cannot be used (RE2's sentence), or nullopt when it compiles.
std::optional<std::string> pattern_problem(const std::string& pattern);

// Whether `value` matches `pattern` anywhere (false when the pattern does not compile).
bool pattern_matches(const std::string& pattern, const std::string& value);

// Characters (code points) in UTF-8 text.
std::size_t text_length(const std::string& utf8);

// The faults of a target property value against the property's declaration in a target kind schema, as
// reasons without the path ("must be an integer", "must be at most 65535"). Reasons may quote the value:
// target properties are not secrets. Empty when the value is acceptable.
std::vector<std::string> target_value_faults(const nlohmann::json& declaration, const std::string& value);

// The faults of a text value against `enum`, `pattern`, `minLength` and `maxLength` of a declaration. With
// quote_value=false reasons never repeat the value (config fields may be sensitive).
std::vector<std::string> text_limit_faults(const nlohmann::json& declaration, const std::string& value, bool quote_value);

// Every fault of a target (property name → value as text) against a target kind schema, with paths
// "/target/NAME": not a property of KIND; required but missing; empty; breaks a limit (target_value_faults).
// Empty when the target is acceptable. Used by the grant request check and by the SDK's test kit.
std::vector<Diagnostic> target_faults(const nlohmann::json& kind_schema, const std::string& kind,
                                      const std::map<std::string, std::string>& target);

// The limits of a declaration in one line, for people ("one of member, maintainer"; "id of resource Team";
// "1 to 65535"; "matches ^[a-z]+$; at most 63 characters"; "true or false"), or "-" without limits. The CLI
// prints it wherever a schema is shown, so values look the same in `provider inspect` and `target-group show`.
std::string value_limits_text(const nlohmann::json& declaration);

}  // namespace gatehouse::host
