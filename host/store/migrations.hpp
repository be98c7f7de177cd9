// Numbered schema migrations, embedded in the binary at build time from host/store/migrations/NNNN_name.sql.
// migrate() applies the missing ones in version order, each in its own transaction together with its row in
// schema_migrations, under a transaction-scoped advisory lock so that replicas starting together never race.
// A migration's SQL must be able to run inside a transaction (no CREATE INDEX CONCURRENTLY, no COMMIT).
#pragma once

#include "common/result.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace gatehouse::host::store {

struct Migration {
  int version = 0;   // NNNN of the file name, > 0
  std::string name;  // the rest of the file name, e.g. "control_plane"
  std::string sql;
};

// The migrations this binary carries, sorted by version.
const std::vector<Migration>& embedded_migrations();
// The highest version in embedded_migrations(): the schema this binary expects.
int latest_schema_version();

// The advisory lock key every migrate() takes (pg_advisory_xact_lock): "gatehous" in ASCII.
inline constexpr std::int64_t kMigrationLockKey = 0x67617465686f7573;

// Applies the embedded migrations that are missing; returns the schema version afterwards.
// Errors: schema_too_new ("database schema version N is newer than this gatehouse (M); upgrade gatehouse"),
// schema_unknown_migration, migration_failed, and the database_* codes of Database.
Result<int> migrate(Database& db);
// The same with an explicit list (any order; versions must be distinct and > 0). For tests and tools.
Result<int> migrate(Database& db, const std::vector<Migration>& migrations);

// The highest applied version, 0 for a database that has never been migrated.
Result<int> schema_version(Database& db);

}  // namespace gatehouse::host::store
