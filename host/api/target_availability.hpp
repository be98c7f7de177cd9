// Requests for targets no handler can grant now: a degraded handler names the targets it cannot grant
// (registry::UnavailableTarget, from its provider's health check). A request is refused at once, with the
// providers' reasons, when every routable handler of the group names its target so; it goes ahead as soon as
// one routed handler can serve it (routing then picks among the candidates as usual).
#pragma once

#include "common/result.hpp"
#include "registry/registry.hpp"

#include <map>
#include <optional>
#include <string>

namespace gatehouse::host::api {

// Error failed_precondition (HTTP 409) naming each degraded handler and its reason, with a diagnostic on
// "/target"; nullopt when some routable handler can take the request, or when no handler is routable (the
// grant then waits for one, as before). Reads registry snapshots only: safe from any thread.
std::optional<Error> refuse_unavailable_target(const registry::Registry& registry, const registry::TargetGroupInfo& group,
                                               const std::map<std::string, std::string>& target);

}  // namespace gatehouse::host::api
