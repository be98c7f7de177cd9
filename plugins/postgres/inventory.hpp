// The loaders: the cluster's databases, and its roles split into Role (NOLOGIN: what gets granted) and
// Login (LOGIN: who receives it), served page by page.
#pragma once

#include "names.hpp"
#include "powers.hpp"

#include <gatehouse/sdk.hpp>

#include <pqxx/transaction_base>

#include <cstddef>
#include <string>

namespace pgprovider {

// Pages are keyset-paginated by name: the page token is the hex-encoded last name of the previous page, and
// the next page starts after it. Unlike offsets, a role created or dropped between two pages neither
// repeats nor skips the others. Names sort in the "C" collation (byte order), as PostgreSQL sorts `name`.

// fetch_databases: one Database per database that accepts connections and is not a template.
gatehouse::LoadResult database_page(pqxx::transaction_base& txn, const std::string& page_token, std::size_t page_size);

// fetch_roles: every role of pg_roles as Role or Login, each with `databases` (those it may connect to);
// a Role also says whether this handler would grant it (`grantable`: matches the pattern and reaches no power
// `policy` refuses). The host leaves roles with grantable false out of `target-group options`.
gatehouse::LoadResult role_page(pqxx::transaction_base& txn, const Grantable& grantable, const PowerPolicy& policy,
                                const std::string& page_token, std::size_t page_size);

}  // namespace pgprovider
