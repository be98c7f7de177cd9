// What the API returns for each object: one function per object, so every endpoint (and `gatehouse apply`)
// prints the same shape. Secret config fields are references by construction (the registry refuses literal
// secrets); they are still passed through redact_secrets so nothing literal could ever leave.
#pragma once

#include "audit/audit_log.hpp"
#include "grants/grant_types.hpp"
#include "registry/registry.hpp"

#include <nlohmann/json.hpp>

namespace gatehouse::host::api {

nlohmann::json provider_json(const ProviderModule& module, bool with_schema);
nlohmann::json handler_json(const registry::HandlerInfo& handler, const nlohmann::json* provider_schema);
nlohmann::json target_group_json(const registry::TargetGroupInfo& group);
nlohmann::json route_json(const registry::RouteInfo& route);
nlohmann::json grant_json(const grants::GrantRecord& grant);
nlohmann::json history_json(const grants::HistoryEntry& entry);
nlohmann::json audit_json(const audit::AuditEntry& entry);

// {"error":{"code","message","details":[{"path","reason"}]}}
nlohmann::json error_json(const Error& error);

}  // namespace gatehouse::host::api
