// The health check's question: can the configured login do this handler's job, and for which roles?
#pragma once

#include "names.hpp"
#include "powers.hpp"

#include <gatehouse/sdk.hpp>

#include <pqxx/transaction_base>

namespace pgprovider {

// Enough to grant and revoke a role: SUPERUSER; or, on PostgreSQL 15 and older, CREATEROLE (which lets a login
// manage membership in every non-superuser role); or ADMIN OPTION on it (the only way on PostgreSQL 16+,
// where CREATEROLE alone no longer suffices). create_logins also needs CREATEROLE.
//
// The answer:
//   failing   the server cannot be used (create_logins without CREATEROLE, or no grantable role can be granted);
//   degraded  some grantable roles lack ADMIN OPTION: those are listed as unavailable targets ({role: name})
//             with the statement that fixes it, the others stay grantable;
//   ok        every grantable role can be granted (the message lists them).
// Either healthy answer ends with a warning when the login inherits the privileges of grantable roles (it
// could use them itself: make it NOINHERIT).
gatehouse::Health check_privileges(pqxx::transaction_base& txn, const Grantable& grantable, const PowerPolicy& policy,
                                   bool create_logins);

}  // namespace pgprovider
