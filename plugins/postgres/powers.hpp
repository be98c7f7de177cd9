// The powers gatehouse never hands out by default, as SQL over pg_roles. A grant gives the subject every role
// the granted role belongs to (privileges through INHERIT, attributes through SET ROLE), so a role is refused
// when it, or any role it reaches through memberships, holds one of them.
#pragma once

#include <string>
#include <vector>

namespace pgprovider {

// Predefined roles refused unless the handler's `allow_predefined` lists them: each reads or changes far more
// than one application's roles should (all data, all settings, other sessions). PostgreSQL reserves the pg_
// prefix, so a role of that name is the predefined one; those a server version lacks simply never match.
struct PredefinedRole {
  const char* name;
  const char* power;  // what it gives, for refusals ("INSERT, UPDATE and DELETE on all tables")
};
const std::vector<PredefinedRole>& optional_predefined_roles();

// Always refused, whatever the config: SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS (each a way to become
// superuser or to read around row security) and pg_execute_server_program, pg_read_server_files,
// pg_write_server_files (the server's files and programs, which is superuser in practice).
//
// Immutable after construction: safe to share between threads.
class PowerPolicy {
 public:
  // `allow_predefined`: names of optional_predefined_roles(), separated by commas and/or spaces ("" = none).
  // Throws gatehouse::Error invalid_argument naming "/allow_predefined" for any other name.
  explicit PowerPolicy(const std::string& allow_predefined);

  // An SQL condition on a pg_roles row aliased `p`: true when p holds a refused power. Built only from the
  // constant names above, never from config text.
  const std::string& condition() const noexcept { return condition_; }
  // An SQL text expression over `p`: its refused powers, e.g. "SUPERUSER, CREATEROLE" or
  // "pg_write_all_data (INSERT, UPDATE and DELETE on all tables)".
  const std::string& powers() const noexcept { return powers_; }
  const std::vector<std::string>& allowed() const noexcept { return allowed_; }
  // Whether `role` is an optional predefined role (so a refusal can point at allow_predefined).
  static bool is_optional_predefined(const std::string& role);

 private:
  std::vector<std::string> allowed_;
  std::string condition_;
  std::string powers_;
};

}  // namespace pgprovider
