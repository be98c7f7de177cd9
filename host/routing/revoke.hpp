// Which handlers may confirm a revoke, in the order they are asked.
//
// RULE (docs/architecture.md "The revoke rule"; tested in tests/routing/revoke_test.cpp):
//   1. The handler that granted, while it exists, whatever its health and its routes (priority 0, invalid, none
//      at all): only it is known to hold the access. Health decides where *new* grants go, never whether a
//      revoke is attempted: the call itself says whether it worked, and an unhealthy handler may well take it.
//   2. Besides it, the handlers the operator declared to manage the same backend as the granting one: the same
//      provider (publisher/name, any version) and the same non-empty `backend` name. They are interchangeable
//      for revokes, so their "already revoked" is evidence too. Order: the granting handler first while it is
//      healthy; otherwise the healthy same-backend handlers go before it (they answer sooner than a handler
//      that may hang until the call timeout), and the unhealthy ones after it; ties by id.
//   3. Nothing else, ever. A handler of the same kind on another backend never held this access: its answer
//      (even "already revoked") says nothing about it. Target-group routes play no part.
//   4. A deleted granting handler: nothing. The grant stays revoke_failing until an admin force-closes it
//      (access_may_persist) or re-points it to a handler of the same backend (the caller's business).
// An empty result means "retry later" to the caller: a revoke is never dropped here.
//
// Pure: no I/O, no locks. The views in the result point into the caller's inputs.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace gatehouse::host::routing {

// A handler as the revoke rule sees it.
struct RevokeHandler {
  std::string_view id;
  std::string_view provider;  // "publisher/name" (the version does not matter)
  std::string_view backend;   // operator-declared; empty: interchangeable with no other handler
  bool healthy = false;
};

// The handler that granted, as it is configured now (exists) or as the access recorded it (deleted).
struct GrantingHandler {
  std::string_view id;
  bool exists = true;
  std::string_view provider;
  std::string_view backend;
  bool healthy = false;  // orders it among its same-backend peers; it is asked either way
};

struct RevokeTarget {
  std::string_view handler;
  bool pinned = false;  // true: the granting handler (rule 1); false: a same-backend handler (rule 2)
  bool operator==(const RevokeTarget&) const = default;
};

// True when `candidate` may take revokes of what `granting` granted (rule 2): another handler, same provider,
// same non-empty backend.
bool same_backend(const GrantingHandler& granting, const RevokeHandler& candidate);

// The handlers to ask, in order (rules 1–4). `handlers`: every configured handler (the granting one may be
// among them; it is recognised by id).
std::vector<RevokeTarget> revoke_targets(const GrantingHandler& granting, std::span<const RevokeHandler> handlers);

}  // namespace gatehouse::host::routing
