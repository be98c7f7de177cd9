#include "inventory/target_inventory.hpp"

namespace gatehouse::host::inventory {

using nlohmann::json;

namespace {

std::string handler_list(const std::vector<std::string>& handlers) {
  std::string out;
  for (const auto& h : handlers) out += (out.empty() ? "" : ", ") + h;
  return out.empty() ? "(none)" : out;
}

// The handlers as a text[] literal sent as one statement parameter ($1::text[]), never spliced into SQL.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

}  // namespace

Result<TargetCheck> check_target_against_inventory(store::Database& db, const std::vector<std::string>& handlers,
                                                   const json& kind_schema,
                                                   const std::map<std::string, std::string>& target) {
  const json properties = kind_schema.value("properties", json::object());
  return db.with_transaction([&](pqxx::work& txn) -> Result<TargetCheck> {
    TargetCheck check;
    std::vector<Diagnostic> faults;
    const std::string handler_array = array_literal(handlers);
    for (const auto& [name, spec] : properties.items()) {
      if (!spec.is_object() || !spec.contains("resource") || !spec["resource"].is_string()) continue;
      auto value = target.find(name);
      if (value == target.end()) continue;  // a missing required property is the schema check's to report
      const std::string type = spec["resource"].get<std::string>();
      const auto row = txn.exec_params1(
          "SELECT EXISTS (SELECT 1 FROM resources WHERE handler_id = ANY($1::text[]) AND type = $2 AND id = $3), "
          "EXISTS (SELECT 1 FROM resources WHERE handler_id = ANY($1::text[]) AND type = $2)",
          handler_array, type, value->second);
      if (row[0].as<bool>()) continue;
      if (!row[1].as<bool>()) {
        check.unchecked.push_back(name);
        continue;
      }
      faults.push_back({"/target/" + name, "no " + type + " '" + value->second + "' in the inventory of handler " +
                                               handler_list(handlers) + " (see gatehouse target-group options)"});
    }
    if (!faults.empty())
      return make_error(ErrorCode::invalid_argument, "the target names resources that do not exist", std::move(faults));
    return check;
  });
}

Result<json> target_options(store::Database& db, const std::vector<std::string>& handlers, const json& kind_schema,
                            std::size_t limit) {
  const json properties = kind_schema.value("properties", json::object());
  return db.with_transaction([&](pqxx::work& txn) {
    json out = json::object();
    const std::string handler_array = array_literal(handlers);
    for (const auto& [name, spec] : properties.items()) {
      json entry = json::object();
      // The limits the host checks at request time, so a requester sees them before asking.
      for (const char* key : {"type", "description", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum"})
        if (spec.contains(key)) entry[key] = spec[key];
      if (spec.contains("resource") && spec["resource"].is_string()) {
        const std::string type = spec["resource"].get<std::string>();
        entry["resource"] = type;
        json values = json::array();
        const auto rows = txn.exec_params(
            "SELECT id, max(name), array_to_json(array_agg(handler_id ORDER BY handler_id))::text FROM resources "
            "WHERE handler_id = ANY($1::text[]) AND type = $2 AND (data -> 'grantable') IS DISTINCT FROM 'false'::jsonb "
            "GROUP BY id ORDER BY id LIMIT $3",
            handler_array, type, static_cast<long long>(limit + 1));
        for (const auto& row : rows) {
          if (values.size() == limit) break;
          values.push_back({{"id", row[0].as<std::string>()},
                            {"name", row[1].is_null() ? "" : row[1].as<std::string>()},
                            {"handlers", json::parse(row[2].as<std::string>())}});
        }
        entry["values"] = values;
        entry["truncated"] = rows.size() > limit;
      }
      out[name] = entry;
    }
    return json{{"properties", out}, {"handlers", handlers}};
  });
}

}  // namespace gatehouse::host::inventory
