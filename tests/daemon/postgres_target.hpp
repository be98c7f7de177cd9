// What the daemon tests that drive the postgres provider need to look at the target server: membership as
// pg_auth_members has it, the database name of a dsn, roles created once per cluster. Header-only; each
// function opens its own statement on the caller's connection, so one connection per test thread.
#pragma once

#include <pqxx/pqxx>

#include <string>

namespace gatehouse::test {

inline void exec(pqxx::connection& conn, const std::string& statement) {
  pqxx::nontransaction txn(conn);
  txn.exec(statement);
}

// Roles are cluster-wide and Catch runs a test case once per section: each is created only once.
inline void create_role(pqxx::connection& conn, const std::string& name, const std::string& options) {
  pqxx::nontransaction txn(conn);
  if (txn.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", name).empty())
    txn.exec("CREATE ROLE " + txn.quote_name(name) + " " + options);
}

// Whether `login` is a member of `role` (the access a postgres grant gives, checked where it lives).
inline bool is_member(pqxx::connection& conn, const std::string& role, const std::string& login) {
  pqxx::nontransaction txn(conn);
  return !txn.exec_params("SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                          "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2",
                          role, login)
              .empty();
}

// The dbname='…' of a dsn made by TestPostgres::fresh_database.
inline std::string database_of(const std::string& dsn) {
  const auto at = dsn.find("dbname='") + 8;
  return dsn.substr(at, dsn.find('\'', at) - at);
}

}  // namespace gatehouse::test
