// Read side of the inventory, for the faces (HTTP API, CLI): resources and sync runs. Every value a caller
// passes (handler, type, id, text match, cursor) travels as a statement parameter, never as SQL text.
#pragma once

#include "common/result.hpp"
#include "inventory/inventory_types.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace gatehouse::host::inventory {

// Resources ordered by (handler_id, type, id), `filter.limit` at most, from after `filter.after`.
// Errors: invalid_argument (limit out of 1..1000, a cursor that is not one of ours), database_*.
Result<ResourcePage> list_resources(store::Database& db, const ResourceFilter& filter);

// One resource with what its relation fields name (and whether those exist) and which resources of the same
// handler name it. Errors: not_found ("no resource <type> '<id>' for handler '<h>'"), database_*.
Result<ResourceDetail> get_resource(store::Database& db, std::string_view handler_id, std::string_view type,
                                    std::string_view id);

// Sync runs, newest first, each with its loaders. Errors: invalid_argument (limit), database_*.
Result<std::vector<SyncRun>> list_sync_runs(store::Database& db, const SyncRunFilter& filter);

// One sync run with its loaders. Errors: not_found ("no sync run 42"), database_*.
Result<SyncRun> get_sync_run(store::Database& db, std::int64_t id);

// The running run of a handler, if any (as recorded: it may belong to another replica).
Result<std::optional<std::int64_t>> running_sync_run(store::Database& db, std::string_view handler_id);

}  // namespace gatehouse::host::inventory
