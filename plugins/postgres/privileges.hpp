// The health check's question: can the configured login do this handler's job?
#pragma once

#include "names.hpp"

#include <gatehouse/sdk.hpp>

#include <pqxx/transaction_base>

namespace pgprovider {

// Enough to grant and revoke: SUPERUSER; or, on PostgreSQL 15 and older, CREATEROLE (which lets a login
// manage membership in every non-superuser role); or ADMIN OPTION on every grantable role (the only way
// on PostgreSQL 16+, where CREATEROLE alone no longer suffices). create_logins also needs CREATEROLE.
// The message names the login, what it lacks and, when healthy, the roles this handler can grant.
gatehouse::Health check_privileges(pqxx::transaction_base& txn, const Grantable& grantable, bool create_logins);

}  // namespace pgprovider
