// Validates a handler config against the `config` section of a provider schema.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gatehouse::host {

// The config section as a JSON Schema (draft 7) object: typed properties, required fields, defaults,
// no unknown fields. Secret fields also accept "env:NAME" / "file:PATH" references.
nlohmann::json config_json_schema(const nlohmann::json& provider_schema);

// Ok, or Error{code "config_invalid"} with every fault and its field path ("/token").
Result<void> validate_config(const nlohmann::json& provider_schema, const nlohmann::json& config);

}  // namespace gatehouse::host
