#include "catalog.hpp"

#include <pqxx/result>

namespace pgprovider {

const char* const kPrivilegedRole =
    "(p.rolsuper OR p.rolcreaterole OR p.rolreplication OR p.rolbypassrls OR p.rolname IN "
    "('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'))";

std::optional<RoleInfo> find_role(pqxx::transaction_base& txn, const std::string& name) {
  // `up` walks memberships upwards from the role (UNION, not UNION ALL: stops on cycles). The role's own
  // powers are reported first, otherwise those of the first such role by name.
  const std::string query = std::string(R"(
WITH RECURSIVE target AS (SELECT oid, rolcanlogin FROM pg_roles WHERE rolname = $1),
up(oid) AS (
  SELECT oid FROM target
  UNION
  SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid),
risky AS (
  SELECT p.rolname,
         concat_ws(', ',
           CASE WHEN p.rolsuper THEN 'SUPERUSER' END,
           CASE WHEN p.rolcreaterole THEN 'CREATEROLE' END,
           CASE WHEN p.rolreplication THEN 'REPLICATION' END,
           CASE WHEN p.rolbypassrls THEN 'BYPASSRLS' END,
           CASE WHEN p.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')
                THEN 'access to the server''s files and programs' END) AS powers
  FROM up JOIN pg_roles p ON p.oid = up.oid
  WHERE )") + kPrivilegedRole +
                            R"(
  ORDER BY p.oid = (SELECT oid FROM target) DESC, p.rolname
  LIMIT 1)
SELECT t.rolcanlogin, coalesce(r.rolname::text, ''), coalesce(r.powers, '')
FROM target t LEFT JOIN risky r ON true)";
  const pqxx::result rows = txn.exec_params(query, name);
  if (rows.empty()) return std::nullopt;
  return RoleInfo{rows[0][0].as<bool>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()};
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
      "SELECT g.rolname, g.rolname = current_user "
      "FROM pg_auth_members m "
      "JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
      "LEFT JOIN pg_roles g ON g.oid = m.grantor "
      "WHERE r.rolname = $1 AND u.rolname = $2",
      role, member);
  if (rows.empty()) return std::nullopt;
  return Membership{rows[0][0].is_null() ? std::string() : rows[0][0].as<std::string>(),
                    !rows[0][1].is_null() && rows[0][1].as<bool>()};
}

void lock_login(pqxx::transaction_base& txn, const std::string& login) {
  txn.exec_params("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse/postgres login ' || $1, 0))", login);
}

AdminLogin admin_login(pqxx::transaction_base& txn) {
  const pqxx::result rows = txn.exec(
      "SELECT rolname, rolsuper, rolcreaterole, current_setting('server_version_num')::int "
      "FROM pg_roles WHERE rolname = current_user");
  if (rows.empty()) return AdminLogin{};
  return AdminLogin{rows[0][0].as<std::string>(), rows[0][1].as<bool>(), rows[0][2].as<bool>(), rows[0][3].as<int>()};
}

}  // namespace pgprovider
