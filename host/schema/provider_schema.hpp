// Checks a provider schema document against schemas/provider.v1.schema.json and the rules a JSON Schema
// cannot express (relations, loader types and target resources must name declared resource types).
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace gatehouse::host {

// The meta-schema text, embedded at build time.
const std::string& provider_meta_schema_text();

// Ok, or Error{code "schema_invalid"} listing every fault with the JSON pointer of its location
// (e.g. "/resources/types/Role/properties/data/database/relation").
Result<void> validate_provider_schema(const nlohmann::json& document);

}  // namespace gatehouse::host
