// The audit log (table audit_log): every mutating API call is recorded by the API with its caller — a change in
// the change's own transaction (record(txn, …)), a refusal after it — and every grant transition by a trigger on
// grant_history (migration 0005). Details never hold secrets: callers pass
// ids, reasons and error codes, never configs.
#pragma once

#include "common/result.hpp"
#include "store/database.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::audit {

struct AuditEntry {
  std::int64_t id = 0;
  std::chrono::system_clock::time_point at;
  std::string actor;    // token name, or "engine:<id>" for grant transitions
  std::string action;   // "handler.create", "grant.request", "grant.active", …
  std::string object;   // "handler/demo-a", "grant/<uuid>", …
  std::string outcome;  // "ok", "failed", or the error code of a refused call
  nlohmann::json details = nlohmann::json::object();
};

struct AuditFilter {
  std::optional<std::string> actor;
  std::optional<std::string> action;  // exact, or a prefix ending in '.' ("grant.")
  std::optional<std::string> object;
  std::optional<std::chrono::system_clock::time_point> since;
  std::optional<std::int64_t> before_id;  // paging: entries older than this id
  std::size_t limit = 100;
};

// Writes one entry. Text PostgreSQL cannot store (a NUL, ill-formed UTF-8) is replaced by U+FFFD in every
// field and in the details' strings and keys, so an entry never fails because of what a caller sent.
Result<void> record(store::Database& db, const std::string& actor, const std::string& action,
                    const std::string& object, const std::string& outcome,
                    const nlohmann::json& details = nlohmann::json::object());

// The same entry written in the caller's transaction: the transaction of the change it records, so the change
// and its entry commit together or not at all. Throws what the INSERT throws (the caller's transaction fails).
void record(pqxx::work& txn, const std::string& actor, const std::string& action, const std::string& object,
            const std::string& outcome, const nlohmann::json& details = nlohmann::json::object());

// `value` with every string and key made storable (storable_text): what record() writes as details.
nlohmann::json storable_json(const nlohmann::json& value);

// Newest first.
Result<std::vector<AuditEntry>> list(store::Database& db, const AuditFilter& filter);

}  // namespace gatehouse::host::audit
