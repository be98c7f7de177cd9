#include "auth/roles.hpp"

namespace gatehouse::host::auth {

bool allows(Role role, Permission permission) {
  switch (role) {
    case Role::admin:
      return true;
    case Role::auditor:
      return permission == Permission::read_catalog || permission == Permission::read_control_plane ||
             permission == Permission::read_all_grants || permission == Permission::read_own_grants ||
             permission == Permission::read_audit;
    case Role::requester:
      return permission == Permission::read_catalog || permission == Permission::read_own_grants ||
             permission == Permission::request_grant || permission == Permission::revoke_own_grant;
  }
  return false;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::admin: return "admin";
    case Role::requester: return "requester";
    case Role::auditor: return "auditor";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::admin;
  if (text == "requester") return Role::requester;
  if (text == "auditor") return Role::auditor;
  return std::nullopt;
}

}  // namespace gatehouse::host::auth
