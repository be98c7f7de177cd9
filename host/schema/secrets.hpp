// Secret config fields (marked "secret": true in the provider schema): referenced, resolved, never shown.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gatehouse::host {

// Names of the config fields marked secret.
std::vector<std::string> secret_fields(const nlohmann::json& provider_schema);

// True for "env:NAME" and "file:PATH" values.
bool is_secret_reference(const std::string& value);

// A copy with each secret reference replaced by its value: env:NAME reads the environment, file:PATH reads
// the file (one trailing newline dropped). Error "secret_unresolved" names the field path and the variable
// or file, never a value.
Result<nlohmann::json> resolve_secrets(const nlohmann::json& provider_schema, const nlohmann::json& config);

// A copy safe to print or store in logs: references are kept (they are not secrets), literal secret values
// become "<redacted>".
nlohmann::json redact_secrets(const nlohmann::json& provider_schema, const nlohmann::json& config);

// Secret fields given as literal values rather than references (the CLI warns about these).
std::vector<std::string> literal_secret_fields(const nlohmann::json& provider_schema, const nlohmann::json& config);

}  // namespace gatehouse::host
