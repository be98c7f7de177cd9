#include "store/migrations.hpp"

#include <algorithm>
#include <set>

#include <pqxx/except>

namespace gatehouse::host::store {
namespace {

struct Step {
  bool done = false;
  int version = 0;  // the version applied by this step, or the final version when done
};

std::string label(const Migration& m) {
  std::string number = std::to_string(m.version);
  if (number.size() < 4) number.insert(0, 4 - number.size(), '0');
  return number + "_" + m.name;
}

Result<std::vector<Migration>> sorted_checked(const std::vector<Migration>& migrations) {
  std::vector<Migration> sorted = migrations;
  std::sort(sorted.begin(), sorted.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i].version <= 0)
      return make_error(ErrorCode::migration_invalid, "migration " + label(sorted[i]) + " has a version below 1");
    if (i > 0 && sorted[i].version == sorted[i - 1].version)
      return make_error(ErrorCode::migration_invalid, "migrations " + label(sorted[i - 1]) + " and " + label(sorted[i]) +
                                                 " share version " + std::to_string(sorted[i].version));
  }
  return sorted;
}

// One transaction: take the lock, look at what is applied, apply the first missing migration (if any).
Result<Step> apply_next(Database& db, const std::vector<Migration>& migrations, int latest) {
  return db.with_transaction([&](pqxx::work& txn) -> Result<Step> {
    // Read committed whatever the database default: each statement after the lock must see what the
    // previous holder committed (a snapshot taken before the wait would not).
    txn.exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
    txn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<int> applied;
    for (const auto& row : txn.exec("SELECT version FROM schema_migrations")) applied.insert(row[0].as<int>());

    const int newest = applied.empty() ? 0 : *applied.rbegin();
    if (newest > latest)
      return make_error(ErrorCode::schema_too_new, "database schema version " + std::to_string(newest) +
                                              " is newer than this gatehouse (" + std::to_string(latest) +
                                              "); upgrade gatehouse");
    for (int version : applied) {
      const bool known = std::any_of(migrations.begin(), migrations.end(),
                                     [&](const Migration& m) { return m.version == version; });
      if (!known)
        return make_error(ErrorCode::schema_unknown_migration,
                          "database has migration " + std::to_string(version) +
                              " applied, which this gatehouse does not know; was it built from another branch?");
    }

    const auto next = std::find_if(migrations.begin(), migrations.end(),
                                   [&](const Migration& m) { return !applied.count(m.version); });
    if (next == migrations.end()) return Step{true, newest};

    try {
      txn.exec(next->sql);
    } catch (const pqxx::broken_connection&) {
      throw;  // with_connection reports database_unavailable and drops the connection
    } catch (...) {
      Error error = error_from_current_exception();
      return make_error(ErrorCode::migration_failed, "migration " + label(*next) + " failed: " + error.message);
    }
    txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", next->version, next->name);
    return Step{false, next->version};
  });
}

}  // namespace

int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

Result<int> migrate(Database& db) { return migrate(db, embedded_migrations()); }

Result<int> migrate(Database& db, const std::vector<Migration>& migrations) {
  auto sorted = sorted_checked(migrations);
  if (!sorted.ok()) return sorted.take_error();
  const int latest = sorted->empty() ? 0 : sorted->back().version;
  // Each step commits before the next, so a failure leaves every earlier migration applied and recorded.
  for (;;) {
    auto step = apply_next(db, *sorted, latest);
    if (!step.ok()) return step.take_error();
    if (step->done) return step->version;
  }
}

Result<int> schema_version(Database& db) {
  return db.with_transaction([](pqxx::work& txn) -> int {
    if (txn.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) return 0;
    return txn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
  });
}

}  // namespace gatehouse::host::store
