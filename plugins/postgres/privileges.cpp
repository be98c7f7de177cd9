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
  bool inherited;  // the login has the role's privileges without SET ROLE (pg_has_role ... 'USAGE')
};

// The roles this handler would grant: NOLOGIN, matching `grantable`, holding no refused power.
std::vector<Candidate> grantable_roles(pqxx::transaction_base& txn, const Grantable& grantable,
                                       const PowerPolicy& policy) {
  const std::string query = std::string(R"(
SELECT r.rolname, pg_has_role(r.oid, 'MEMBER WITH ADMIN OPTION'), pg_has_role(r.oid, 'USAGE')
FROM pg_roles r
WHERE NOT r.rolcanlogin
  AND NOT EXISTS (WITH RECURSIVE up(oid) AS (
                    SELECT r.oid UNION SELECT m.roleid FROM pg_auth_members m JOIN up ON m.member = up.oid)
                  SELECT 1 FROM up JOIN pg_roles p ON p.oid = up.oid WHERE )") +
                            policy.condition() + R"()
ORDER BY r.rolname)";
  std::vector<Candidate> out;
  for (const auto& row : txn.exec(query)) {
    auto name = row[0].as<std::string>();
    if (grantable.allows(name)) out.push_back({std::move(name), row[1].as<bool>(), row[2].as<bool>()});
  }
  return out;
}

}  // namespace

Health check_privileges(pqxx::transaction_base& txn, const Grantable& grantable, const PowerPolicy& policy,
                        bool create_logins) {
  const AdminLogin admin = admin_login(txn);
  const std::string login = "login '" + admin.name + "'";
  const auto roles = grantable_roles(txn, grantable, policy);

  if (create_logins && !admin.superuser && !admin.create_role) {
    return Health::failing(login + " lacks CREATEROLE, which create_logins needs to create subjects' logins");
  }
  // PostgreSQL 16 made CREATEROLE need ADMIN OPTION on a role to grant it; 15 and older did not.
  const bool create_role_suffices = admin.create_role && admin.server_version < 160000;
  std::vector<std::string> lacking, usable, inherited;
  for (const auto& role : roles) {
    const bool can = admin.superuser || create_role_suffices || role.admin_option;
    (can ? usable : lacking).push_back(role.name);
    // A superuser has every privilege anyway; the warning is about a login that gained them by membership.
    if (!admin.superuser && role.inherited) inherited.push_back(role.name);
  }
  const std::string how = admin.superuser ? "SUPERUSER" : create_role_suffices ? "CREATEROLE" : "ADMIN OPTION";
  std::string warning;
  if (!inherited.empty()) {
    warning = "; warning: " + login + " inherits the privileges of " + list_of(inherited) +
              " (it could use them itself: ALTER ROLE " + txn.quote_name(admin.name) +
              " NOINHERIT keeps ADMIN OPTION working without them)";
  }
  const std::string lack_reason =
      "it is not SUPERUSER and has " +
      std::string(admin.server_version < 160000 ? "neither CREATEROLE nor ADMIN OPTION on it"
                                                : "no ADMIN OPTION on it (CREATEROLE no longer suffices on PostgreSQL 16+)");
  if (!lacking.empty() && usable.empty()) {
    return Health::failing(login + " cannot grant " + list_of(lacking) + ": it is not SUPERUSER and has " +
                           (admin.server_version < 160000 ? "neither CREATEROLE nor ADMIN OPTION on them"
                                                          : "no ADMIN OPTION on them"));
  }
  if (!lacking.empty()) {
    std::vector<gatehouse::UnavailableTarget> unavailable;
    for (const auto& name : lacking) {
      unavailable.push_back({gatehouse::Target{"DatabaseRole", {{"role", name}}},
                             login + " cannot grant role '" + name + "': " + lack_reason + " (GRANT " +
                                 txn.quote_name(name) + " TO " + txn.quote_name(admin.name) + " WITH ADMIN OPTION)"});
    }
    return Health::degraded_with("connected as " + login + " (" + how + "); cannot grant " + list_of(lacking) +
                                     " (no ADMIN OPTION); can grant " + list_of(usable) + warning,
                                 std::move(unavailable));
  }
  const std::string what =
      usable.empty() ? "no role matches grantable '" + grantable.pattern() + "'" : "can grant " + list_of(usable);
  return Health::ok("connected as " + login + " (" + how + "); " + what + warning);
}

}  // namespace pgprovider
