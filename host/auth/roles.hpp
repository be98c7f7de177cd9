// Roles of API tokens and what each may do. One table, so the API and its tests agree.
//   admin      everything
//   requester  request grants and revoke its own (subject = its subject, or created by it); read target groups
//              and its own grants
//   auditor    read everything (grants, handlers, routes, audit, metrics); change nothing
#pragma once

#include <optional>
#include <string_view>

namespace gatehouse::host::auth {

enum class Role { admin, requester, auditor };

enum class Permission {
  read_catalog,        // providers, target groups (what can be requested)
  read_control_plane,  // handlers, routes, metrics, sync state
  read_all_grants,
  read_own_grants,
  request_grant,       // for its own subject (admin: any subject)
  revoke_own_grant,
  revoke_any_grant,
  manage_control_plane,  // handlers, target groups, routes, apply
  read_audit,
};

bool allows(Role role, Permission permission);
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view text);

}  // namespace gatehouse::host::auth
