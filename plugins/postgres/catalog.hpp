// Reads of the cluster's catalogs (pg_roles, pg_database, pg_auth_members) that grant, revoke and health
// decide on. Every value travels as a query parameter; nothing here builds SQL from a name.
#pragma once

#include <pqxx/transaction_base>

#include <optional>
#include <string>

namespace pgprovider {

// Powers gatehouse never hands out, because whoever holds them can make themselves superuser or reach the
// server's files: SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS and the predefined roles
// pg_execute_server_program, pg_read_server_files, pg_write_server_files. Role attributes are not
// inherited, but any member may SET ROLE to a role it belongs to, so they count through memberships too.
// An SQL condition on a pg_roles row aliased `p`.
extern const char* const kPrivilegedRole;

struct RoleInfo {
  bool can_login = false;
  // The role itself or the first role it reaches through memberships that holds one of the powers above,
  // and which powers ("SUPERUSER, CREATEROLE"); both empty when there is none.
  std::string privileged_via;
  std::string privileges;
};
std::optional<RoleInfo> find_role(pqxx::transaction_base& txn, const std::string& name);

struct DatabaseInfo {
  bool allows_connections = false;  // datallowconn
  bool is_template = false;         // datistemplate
};
std::optional<DatabaseInfo> find_database(pqxx::transaction_base& txn, const std::string& name);

// Whether `role` may connect to `database`: its own CONNECT privilege, one inherited from a role it
// belongs to, or PUBLIC's (the default).
bool can_connect(pqxx::transaction_base& txn, const std::string& role, const std::string& database);

// A direct membership of `member` in `role`, as pg_auth_members records it.
struct Membership {
  std::string grantor;         // the role that granted it
  bool granted_by_us = false;  // grantor is the provider's own login (current_user)
};
std::optional<Membership> find_membership(pqxx::transaction_base& txn, const std::string& role,
                                          const std::string& member);

// Serializes this transaction with every other grant and revoke for `login`, across handlers and
// processes, until it commits (pg_advisory_xact_lock). Without it two grants to a new subject could both
// try to create its login, and a grant racing a revoke could report a state that no longer holds.
void lock_login(pqxx::transaction_base& txn, const std::string& login);

// The provider's own login (current_user) and what it may do.
struct AdminLogin {
  std::string name;
  bool superuser = false;
  bool create_role = false;
  int server_version = 0;  // server_version_num, e.g. 150004
};
AdminLogin admin_login(pqxx::transaction_base& txn);

}  // namespace pgprovider
