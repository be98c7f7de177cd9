// The sync_runs / sync_run_loaders rows and the per-handler advisory lock (internal to host/inventory).
#pragma once

#include "common/result.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::inventory {

// The run's table of keys seen by loaders that had rows already: "inventory_seen_<run id>" (unquoted).
std::string seen_table_name(std::int64_t run_id);

// pg_try_advisory_lock on the session, keyed by the handler: true when this session now holds it.
Result<bool> try_lock_handler(pqxx::connection& conn, std::string_view handler_id);
// Releases it; an Error means the connection should not go back to the pool.
Result<void> unlock_handler(pqxx::connection& conn, std::string_view handler_id);

// Under the handler's lock: marks runs still 'running' (their process died) as abandoned and drops their
// seen tables, then records a new 'running' run with one 'running' row per loader. Returns its id.
Result<std::int64_t> create_run_record(pqxx::connection& conn, std::string_view handler_id, std::string_view trigger,
                                       const std::vector<std::string>& loaders);

Result<void> record_loader_end(store::Database& db, std::int64_t run_id, const std::string& loader,
                               const std::string& status, std::int64_t removed, std::int64_t retries,
                               const std::string& error_code, const std::string& error);
Result<void> record_run_end(store::Database& db, std::int64_t run_id, const std::string& status,
                            std::int64_t removed, const std::string& error);
Result<void> drop_seen_table(store::Database& db, std::int64_t run_id);

}  // namespace gatehouse::host::inventory
