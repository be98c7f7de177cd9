#include "privileges.hpp"

#include "catalog.hpp"

#include <pqxx/result>

#include <string>
#include <vector>

namespace pgprovider {
namespace {

using gatehouse::Health;

// "'a', 'b', 'c' and 7 more": enough to act on without flooding a status line.
std::string list_of(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 10;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

struct Candidate {
  std::string name;
  bool admin_option;
};

// The roles this handler would grant: NOLOGIN, matching `grantable`, holding no privileged power.
std::vector<Candidate> grantable_roles(pqxx::transaction_base& txn, const Grantable& grantable) {
  const std::string query = std::string(R"(
SELECT r.rolname, pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION')
FROM pg_roles r
WHERE NOT r.rolcanlogin
  AND NOT EXISTS (WITH RECURSIVE up(oid) AS (
                    SELECT r.oid UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid)
                  SELECT 1 FROM up JOIN pg_roles p ON p.oid = up.oid WHERE )") +
                            kPrivilegedRole + R"()
ORDER BY r.rolname)";
  std::vector<Candidate> out;
  for (const auto& row : txn.exec(query)) {
    auto name = row[0].as<std::string>();
    if (grantable.allows(name)) out.push_back({std::move(name), row[1].as<bool>()});
  }
  return out;
}

}  // namespace

Health check_privileges(pqxx::transaction_base& txn, const Grantable& grantable, bool create_logins) {
  const AdminLogin admin = admin_login(txn);
  const std::string login = "login '" + admin.name + "'";
  const auto roles = grantable_roles(txn, grantable);

  std::vector<std::string> problems;
  if (create_logins && !admin.superuser && !admin.create_role) {
    problems.push_back(login + " lacks CREATEROLE, which create_logins needs to create subjects' logins");
  }
  // PostgreSQL 16 made CREATEROLE need ADMIN OPTION on a role to grant it; 15 and older did not.
  const bool create_role_suffices = admin.create_role && admin.server_version < 160000;
  std::vector<std::string> lacking;
  if (!admin.superuser && !create_role_suffices) {
    for (const auto& role : roles) {
      if (!role.admin_option) lacking.push_back(role.name);
    }
  }
  if (!lacking.empty()) {
    problems.push_back(
        login + " cannot grant " + list_of(lacking) + ": it is not SUPERUSER and has " +
        (admin.server_version < 160000 ? "neither CREATEROLE nor ADMIN OPTION on them" : "no ADMIN OPTION on them"));
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "; ") + p;
    return Health::failing(message);
  }

  std::vector<std::string> names;
  for (const auto& role : roles) names.push_back(role.name);
  const std::string how = admin.superuser ? "SUPERUSER" : create_role_suffices ? "CREATEROLE" : "ADMIN OPTION";
  const std::string what =
      names.empty() ? "no role matches grantable '" + grantable.pattern() + "'" : "can grant " + list_of(names);
  return Health::ok("connected as " + login + " (" + how + "); " + what);
}

}  // namespace pgprovider
