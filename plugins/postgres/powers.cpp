#include "powers.hpp"

#include <gatehouse/sdk.hpp>

#include <algorithm>

namespace pgprovider {
namespace {

constexpr const char* kServerFileRoles = "'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'";

std::vector<std::string> split_names(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text + ",") {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (!current.empty()) out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return out;
}

// 'it''s' -> the text as an SQL literal. Only ever applied to the constants of this file.
std::string literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

const std::vector<PredefinedRole>& optional_predefined_roles() {
  static const std::vector<PredefinedRole> roles = {
      {"pg_read_all_data", "SELECT on all tables, views and sequences"},
      {"pg_write_all_data", "INSERT, UPDATE and DELETE on all tables"},
      {"pg_read_all_settings", "reads every setting, including superuser-only ones"},
      {"pg_read_all_stats", "reads every statistics view, including other sessions' queries"},
      {"pg_stat_scan_tables", "runs monitoring functions that take locks on any table"},
      {"pg_monitor", "the monitoring roles pg_read_all_settings, pg_read_all_stats and pg_stat_scan_tables"},
      {"pg_signal_backend", "cancels or terminates other sessions"},
      {"pg_checkpoint", "runs CHECKPOINT"},
      {"pg_use_reserved_connections", "uses the connection slots reserved for administrators"},
      {"pg_create_subscription", "creates logical-replication subscriptions"},
      {"pg_database_owner", "owns the current database"},
  };
  return roles;
}

bool PowerPolicy::is_optional_predefined(const std::string& role) {
  const auto& roles = optional_predefined_roles();
  return std::any_of(roles.begin(), roles.end(), [&](const PredefinedRole& r) { return role == r.name; });
}

PowerPolicy::PowerPolicy(const std::string& allow_predefined) {
  for (const auto& name : split_names(allow_predefined)) {
    if (!is_optional_predefined(name)) {
      std::string known;
      for (const auto& r : optional_predefined_roles()) known += (known.empty() ? "" : ", ") + std::string(r.name);
      throw gatehouse::Error::invalid_argument(
          "allow_predefined names '" + name + "', which is not one of the predefined roles it may allow (" + known +
              ")",
          "/allow_predefined");
    }
    if (std::find(allowed_.begin(), allowed_.end(), name) == allowed_.end()) allowed_.push_back(name);
  }
  std::string refused;  // the optional predefined roles that stay refused, as an SQL list
  std::string describe = "CASE p.rolname";
  for (const auto& r : optional_predefined_roles()) {
    if (std::find(allowed_.begin(), allowed_.end(), r.name) != allowed_.end()) continue;
    refused += (refused.empty() ? "" : ", ") + literal(r.name);
    describe += " WHEN " + literal(r.name) + " THEN " + literal(std::string(r.name) + " (" + r.power + ")");
  }
  describe += " END";
  condition_ = std::string("(p.rolsuper OR p.rolcreaterole OR p.rolreplication OR p.rolbypassrls OR p.rolname IN (") +
               kServerFileRoles + ")" + (refused.empty() ? "" : " OR p.rolname IN (" + refused + ")") + ")";
  powers_ = std::string("concat_ws(', ', CASE WHEN p.rolsuper THEN 'SUPERUSER' END, "
                        "CASE WHEN p.rolcreaterole THEN 'CREATEROLE' END, "
                        "CASE WHEN p.rolreplication THEN 'REPLICATION' END, "
                        "CASE WHEN p.rolbypassrls THEN 'BYPASSRLS' END, "
                        "CASE WHEN p.rolname IN (") +
            kServerFileRoles + ") THEN p.rolname || ' (the server''s files and programs)' END" +
            (refused.empty() ? "" : ", " + describe) + ")";
}

}  // namespace pgprovider
