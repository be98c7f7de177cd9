#include "inventory/run_records.hpp"

namespace gatehouse::host::inventory {
namespace {
// 64-bit key from the handler id: other advisory locks (migrations, grants) use unrelated constants.
constexpr const char* kLockKey = "hashtextextended('gatehouse-inventory:' || $1, 0)";
std::string null_if_empty(const std::string& s) { return s; }
}  // namespace

std::string seen_table_name(std::int64_t run_id) { return "inventory_seen_" + std::to_string(run_id); }

Result<bool> try_lock_handler(pqxx::connection& conn, std::string_view handler_id) {
  try {
    pqxx::nontransaction q(conn);
    return q.exec_params(std::string("SELECT pg_try_advisory_lock(") + kLockKey + ")", std::string(handler_id))[0][0]
        .as<bool>();
  } catch (...) {
    return store::error_from_current_exception();
  }
}

Result<void> unlock_handler(pqxx::connection& conn, std::string_view handler_id) {
  try {
    pqxx::nontransaction q(conn);
    q.exec_params(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")", std::string(handler_id));
    return {};
  } catch (...) {
    return store::error_from_current_exception();
  }
}

Result<std::int64_t> create_run_record(pqxx::connection& conn, std::string_view handler_id, std::string_view trigger,
                                       const std::vector<std::string>& loaders) {
  try {
    const std::string h(handler_id);
    pqxx::work txn(conn);
    const auto abandoned = txn.exec_params(
        "UPDATE sync_runs SET status = 'abandoned', finished_at = now(), "
        "error = 'the process running this sync stopped before it finished' "
        "WHERE handler_id = $1 AND status = 'running' RETURNING id",
        h);
    for (const auto& row : abandoned) {
      const auto id = row[0].as<std::int64_t>();
      txn.exec_params("UPDATE sync_run_loaders SET status = 'abandoned', finished_at = now() "
                      "WHERE run_id = $1 AND status = 'running'",
                      id);
      txn.exec("DROP TABLE IF EXISTS " + conn.quote_name(seen_table_name(id)));
    }
    const auto id = txn.exec_params("INSERT INTO sync_runs (handler_id, trigger, status) VALUES ($1, $2, 'running') "
                                    "RETURNING id",
                                    h, std::string(trigger))[0][0]
                        .as<std::int64_t>();
    for (const auto& loader : loaders)
      txn.exec_params("INSERT INTO sync_run_loaders (run_id, loader, status) VALUES ($1, $2, 'running')", id, loader);
    txn.commit();
    return id;
  } catch (...) {
    return store::error_from_current_exception();
  }
}

Result<void> record_loader_end(store::Database& db, std::int64_t run_id, const std::string& loader,
                               const std::string& status, std::int64_t removed, std::int64_t retries,
                               const std::string& error_code, const std::string& error) {
  return db.with_transaction([&](pqxx::work& txn) {
    txn.exec_params(
        "UPDATE sync_run_loaders SET status = $3, finished_at = now(), resources_removed = $4, retries = $5, "
        "error_code = NULLIF($6, ''), error = NULLIF($7, '') WHERE run_id = $1 AND loader = $2",
        run_id, loader, status, removed, retries, null_if_empty(error_code), null_if_empty(error));
  });
}

Result<void> record_run_end(store::Database& db, std::int64_t run_id, const std::string& status,
                            std::int64_t removed, const std::string& error) {
  return db.with_transaction([&](pqxx::work& txn) {
    txn.exec_params("UPDATE sync_runs SET status = $2, finished_at = now(), resources_removed = $3, "
                    "error = NULLIF($4, '') WHERE id = $1",
                    run_id, status, removed, error);
  });
}

Result<void> drop_seen_table(store::Database& db, std::int64_t run_id) {
  return db.with_connection([&](pqxx::connection& conn) {
    pqxx::work txn(conn);
    txn.exec("DROP TABLE IF EXISTS " + conn.quote_name(seen_table_name(run_id)));
    txn.commit();
  });
}

}  // namespace gatehouse::host::inventory
