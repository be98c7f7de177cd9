// Secret rotation: how a handler notices that a resolved env:/file: reference changed. Only digests of
// resolved values are kept (never the values), and only field names are ever logged.
//
// Threads: pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace gatehouse::host::registry {

// field name → hex SHA-256 of that field's resolved value (its JSON text), for every top-level config field.
std::map<std::string, std::string> resolved_digests_of(const nlohmann::json& resolved_config);

// Names of the fields whose digest differs between `before` and `after` (added and removed fields too).
std::vector<std::string> changed_fields(const std::map<std::string, std::string>& before,
                                        const std::map<std::string, std::string>& after);

}  // namespace gatehouse::host::registry
