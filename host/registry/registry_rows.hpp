// How the registry reads its rows (load() and reconcile() alike): the column lists and the row → value
// conversions, in one place so the two readers cannot drift apart. Internal to host/registry. Stateless.
#pragma once

#include "registry/registry.hpp"

#include <cstdint>
#include <utility>

namespace gatehouse::host::registry {

// Registry::handler_from_row reads these, in this order.
inline constexpr const char* kHandlerColumns =
    "id, provider_publisher, provider_name, provider_version, config::text, health_status, coalesce(health_reason, ''), "
    "extract(epoch from health_checked_at), isolation, coalesce(backend, ''), incarnation, revision";
inline constexpr int kHandlerIncarnationColumn = 10;  // positions in kHandlerColumns that reconcile() compares
inline constexpr int kHandlerRevisionColumn = 11;
inline constexpr const char* kTargetGroupColumns =
    "id, provider_publisher, provider_name, provider_version, kind, kind_schema::text, max_duration_seconds, revision";
inline constexpr const char* kRouteColumns = "target_group_id, handler_id, kind, priority, revision";

// A target group or route (not yet evaluated) and its revision.
std::pair<TargetGroupInfo, std::int64_t> target_group_from_row(const pqxx::row& row);
std::pair<RouteInfo, std::int64_t> route_from_row(const pqxx::row& row);

// One value per table that changes whenever a row is added, removed or gets a new revision: the md5 of its
// revisions in order. What reconcile_if_changed compares. Read in the caller's transaction.
std::string control_plane_fingerprint(pqxx::work& txn);

}  // namespace gatehouse::host::registry
