#include "catalog.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/result>

namespace pgprovider {

std::optional<RoleInfo> find_role(pqxx::transaction_base& txn, const std::string& name, const PowerPolicy& policy) {
  // `up` walks memberships upwards from the role, carrying the chain of names (PostgreSQL refuses circular
  // memberships; the oid guard stops anyway). The role's own powers come first, then the nearest role's.
  const std::string query = std::string(R"(
WITH RECURSIVE target AS (SELECT oid, rolname, rolcanlogin FROM pg_roles WHERE rolname = $1),
up(oid, oids, names) AS (
  SELECT oid, ARRAY[oid], ARRAY[rolname::text] FROM target
  UNION ALL
  SELECT m.roleid, up.oids || m.roleid, up.names || r.rolname::text
  FROM up JOIN pg_auth_members m ON m.member = up.oid JOIN pg_roles r ON r.oid = m.roleid
  WHERE m.roleid <> ALL (up.oids)),
risky AS (
  SELECT p.rolname, )") + policy.powers() + R"( AS powers, array_to_json(up.names)::text AS chain
  FROM up JOIN pg_roles p ON p.oid = up.oid
  WHERE )" + policy.condition() + R"(
  ORDER BY cardinality(up.oids), p.rolname
  LIMIT 1)
SELECT t.rolcanlogin, coalesce(r.rolname::text, ''), coalesce(r.powers, ''), coalesce(r.chain, '[]')
FROM target t LEFT JOIN risky r ON true)";
  const pqxx::result rows = txn.exec_params(query, name);
  if (rows.empty()) return std::nullopt;
  RoleInfo info{rows[0][0].as<bool>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>(), {}};
  for (const auto& n : nlohmann::json::parse(rows[0][3].as<std::string>())) info.chain.push_back(n.get<std::string>());
  return info;
}

std::optional<DatabaseInfo> find_database(pqxx::transaction_base& txn, const std::string& name) {
  const pqxx::result rows =
      txn.exec_params("SELECT datallowconn, datistemplate FROM pg_database WHERE datname = $1", name);
  if (rows.empty()) return std::nullopt;
  return DatabaseInfo{rows[0][0].as<bool>(), rows[0][1].as<bool>()};
}

bool can_connect(pqxx::transaction_base& txn, const std::string& role, const std::string& database) {
  // Both names are looked up as names: the text forms of has_database_privilege would parse them as
  // identifiers and fold their case.
  const pqxx::result rows = txn.exec_params(
      "SELECT has_database_privilege(r.oid, d.oid, 'CONNECT') FROM pg_roles r, pg_database d "
      "WHERE r.rolname = $1 AND d.datname = $2",
      role, database);
  return !rows.empty() && rows[0][0].as<bool>();
}

std::optional<Membership> find_membership(pqxx::transaction_base& txn, const std::string& role,
                                          const std::string& member) {
  const pqxx::result rows = txn.exec_params(
      "SELECT coalesce(g.rolname = current_user, false) AS ours, g.rolname "
      "FROM pg_auth_members m "
      "JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
      "LEFT JOIN pg_roles g ON g.oid = m.grantor "
      "WHERE r.rolname = $1 AND u.rolname = $2 ORDER BY 1",
      role, member);
  if (rows.empty()) return std::nullopt;
  Membership membership;
  for (const auto& row : rows) {
    if (row[0].as<bool>()) {
      membership.granted_by_us = true;
      if (membership.grantor.empty()) membership.grantor = row[1].as<std::string>();
    } else {
      membership.granted_by_others = true;
      membership.grantor = row[1].is_null() ? std::string() : row[1].as<std::string>();  // others' first (ORDER BY)
    }
  }
  return membership;
}

bool can_grant(pqxx::transaction_base& txn, const std::string& role) {
  const pqxx::result rows = txn.exec_params(
      "SELECT a.rolsuper OR (a.rolcreaterole AND current_setting('server_version_num')::int < 160000) "
      "OR pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION') "
      "FROM pg_roles a, pg_roles r WHERE a.rolname = current_user AND r.rolname = $1",
      role);
  return !rows.empty() && rows[0][0].as<bool>();
}

void lock_login(pqxx::transaction_base& txn, const std::string& login) {
  txn.exec_params("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse/postgres login ' || $1, 0))", login);
}

AdminLogin admin_login(pqxx::transaction_base& txn) {
  const pqxx::result rows = txn.exec(
      "SELECT rolname, rolsuper, rolcreaterole, current_setting('server_version_num')::int, rolinherit "
      "FROM pg_roles WHERE rolname = current_user");
  if (rows.empty()) return AdminLogin{};
  return AdminLogin{rows[0][0].as<std::string>(), rows[0][1].as<bool>(), rows[0][2].as<bool>(), rows[0][3].as<int>(),
                    rows[0][4].as<bool>()};
}

}  // namespace pgprovider
