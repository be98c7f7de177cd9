// The host's own documents, checked against JSON Schemas shipped in schemas/ and embedded in the binaries:
// the daemon's config file (gatehoused.schema.json) and the declarative config of `gatehouse apply`
// (apply.v1.schema.json). Every fault comes back with its JSON pointer, like handler configs.
#pragma once

#include "common/result.hpp"

#include <nlohmann/json.hpp>

namespace gatehouse::host {

// Ok, or Error{code "daemon_config_invalid"} listing every fault ("/api/tokens/0/role: ...").
Result<void> check_daemon_config(const nlohmann::json& document);

// Ok, or Error{code "invalid_argument"} listing every fault ("/routes/1/priority: ...").
Result<void> check_apply_document(const nlohmann::json& document);

// The schema texts, for `gatehoused config-schema` and the docs.
const std::string& daemon_config_schema_text();
const std::string& apply_schema_text();

}  // namespace gatehouse::host
