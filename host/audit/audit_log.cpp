#include "audit/audit_log.hpp"

#include "common/utf8_text.hpp"

namespace gatehouse::host::audit {

nlohmann::json storable_json(const nlohmann::json& value) {
  if (value.is_string()) return storable_text(value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(storable_json(item));
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, member] : value.items()) out[storable_text(key)] = storable_json(member);
    return out;
  }
  return value;
}

void record(pqxx::work& txn, const std::string& actor, const std::string& action, const std::string& object,
            const std::string& outcome, const nlohmann::json& details) {
  // What a caller sent may reach these fields (an object id from a path, a reason, a subject); the entry is
  // written whatever it holds, with unstorable characters replaced, rather than lost to a refused INSERT.
  const std::string details_text = storable_json(details).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  txn.exec_params("INSERT INTO audit_log (actor, action, object, outcome, details) VALUES ($1, $2, $3, $4, $5::jsonb)",
                  storable_text(actor), storable_text(action), storable_text(object), storable_text(outcome),
                  details_text);
}

Result<void> record(store::Database& db, const std::string& actor, const std::string& action,
                    const std::string& object, const std::string& outcome, const nlohmann::json& details) {
  return db.with_transaction(
      [&](pqxx::work& txn) { record(txn, actor, action, object, outcome, details); });
}

Result<std::vector<AuditEntry>> list(store::Database& db, const AuditFilter& filter) {
  return db.with_transaction([&](pqxx::work& txn) {
    // One statement whatever the filter: absent filters are NULL parameters, so nothing is spliced into SQL.
    std::optional<std::string> action_exact, action_prefix;
    if (filter.action) {
      if (!filter.action->empty() && filter.action->back() == '.')
        action_prefix = *filter.action;
      else
        action_exact = *filter.action;
    }
    std::optional<std::string> since;
    if (filter.since)
      since = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(filter.since->time_since_epoch()).count());
    const auto rows = txn.exec_params(
        "SELECT id, (extract(epoch FROM at) * 1000000)::bigint, actor, action, object, outcome, details::text "
        "FROM audit_log "
        "WHERE ($1::text IS NULL OR actor = $1) "
        "AND ($2::text IS NULL OR action = $2) "
        "AND ($3::text IS NULL OR left(action, length($3)) = $3) "
        "AND ($4::text IS NULL OR object = $4) "
        "AND ($5::bigint IS NULL OR at >= to_timestamp($5::bigint / 1000000.0)) "
        "AND ($6::bigint IS NULL OR id < $6) "
        "ORDER BY id DESC LIMIT $7",
        filter.actor, action_exact, action_prefix, filter.object, since, filter.before_id,
        static_cast<std::int64_t>(filter.limit));
    std::vector<AuditEntry> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      AuditEntry e;
      e.id = row[0].as<std::int64_t>();
      e.at = std::chrono::system_clock::time_point(std::chrono::microseconds(row[1].as<std::int64_t>()));
      e.actor = row[2].as<std::string>();
      e.action = row[3].as<std::string>();
      e.object = row[4].as<std::string>();
      e.outcome = row[5].as<std::string>();
      e.details = nlohmann::json::parse(row[6].as<std::string>(), nullptr, false);
      out.push_back(std::move(e));
    }
    return out;
  });
}

}  // namespace gatehouse::host::audit
