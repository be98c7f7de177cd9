// Reads of the cluster's catalogs (pg_roles, pg_database, pg_auth_members) that grant, revoke and health
// decide on. Every value travels as a query parameter; nothing here builds SQL from a name.
#pragma once

#include "powers.hpp"

#include <pqxx/transaction_base>

#include <optional>
#include <string>
#include <vector>

namespace pgprovider {

struct RoleInfo {
  bool can_login = false;
  // The role itself or the nearest role it reaches through memberships that holds a power `policy` refuses,
  // which powers ("SUPERUSER, CREATEROLE"), and the chain of memberships from the role to it
  // ({"app_x", "app_wad", "pg_write_all_data"}); all empty when there is none.
  std::string privileged_via;
  std::string privileges;
  std::vector<std::string> chain;
};
std::optional<RoleInfo> find_role(pqxx::transaction_base& txn, const std::string& name, const PowerPolicy& policy);

struct DatabaseInfo {
  bool allows_connections = false;  // datallowconn
  bool is_template = false;         // datistemplate
};
std::optional<DatabaseInfo> find_database(pqxx::transaction_base& txn, const std::string& name);

// Whether `role` may connect to `database`: its own CONNECT privilege, one inherited from a role it
// belongs to, or PUBLIC's (the default).
bool can_connect(pqxx::transaction_base& txn, const std::string& role, const std::string& database);

// A direct membership of `member` in `role`, as pg_auth_members records it. PostgreSQL 15 and older keep one
// row per (role, member) whoever granted it; 16 and later keep one row per grantor.
struct Membership {
  std::string grantor;         // the role that granted it; with several rows (16+), another grantor than us if any
  bool granted_by_us = false;  // a row whose grantor is the provider's own login (current_user)
  bool granted_by_others = false;  // a row whose grantor is someone else (or a role that no longer exists)
};
std::optional<Membership> find_membership(pqxx::transaction_base& txn, const std::string& role,
                                          const std::string& member);

// Whether the provider's own login may grant `role`: SUPERUSER, CREATEROLE before PostgreSQL 16, or ADMIN
// OPTION on it (pg_has_role ... 'MEMBER WITH ADMIN OPTION').
bool can_grant(pqxx::transaction_base& txn, const std::string& role);

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
  bool inherits = false;   // rolinherit: the privileges of roles it belongs to are its own (PostgreSQL 15 default)
};
AdminLogin admin_login(pqxx::transaction_base& txn);

}  // namespace pgprovider
