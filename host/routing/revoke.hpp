// Which handler a revoke goes to.
//
// RULES (ARCHITECTURE.md "Routing rule"; tested in tests/routing/revoke_test.cpp):
//   1. Pinned: the handler that granted, when it still exists (is still configured) and is healthy — even
//      when a route with a higher priority exists, when its own route now has priority 0 or is invalid,
//      and when its routes are gone altogether. Only it holds the provider state the grant returned, and
//      an operator draining a handler (priority 0) still expects it to take back what it gave.
//   2. Fallback: when the granting handler is gone or unhealthy, the best candidate of the grant's target
//      group (priority > 0, valid, healthy, decision order) whose kind equals the grant's kind. Never the
//      granting handler itself. Kinds are compared exactly, so the control plane should name kinds so that
//      equal strings mean "can revoke the same grants" (e.g. "publisher/name/Kind").
//   3. Neither → nothing: the caller keeps the revoke pending and retries with backoff (a revoke is never
//      dropped here).
#pragma once

#include "routing/candidate.hpp"
#include "routing/routing_table.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace gatehouse::host::routing {

struct GrantingHandler {
  std::string_view id;
  bool exists = true;  // the handler is still configured; its routes may be gone
};

struct RevokeTarget {
  std::string_view handler;
  std::string_view kind;
  bool pinned = false;  // true: the handler that granted (rule 1); false: a fallback candidate (rule 2)
  bool operator==(const RevokeTarget&) const = default;
};

// `ordered`: the grant's target group's candidates or eligible routes in decision order (health is asked
// here again either way). Views: `handler` is granted_by.id (pinned) or points into `ordered`'s snapshot.
std::optional<RevokeTarget> revoke_target(GrantingHandler granted_by, std::string_view kind,
                                          std::span<const Candidate> ordered, const HandlerHealth& health);

// The same over a table snapshot: walks the group's eligible routes and stops at the first match.
std::optional<RevokeTarget> revoke_target(GrantingHandler granted_by, std::string_view kind,
                                          const RoutingTable& table, std::string_view target_group,
                                          const HandlerHealth& health);

}  // namespace gatehouse::host::routing
