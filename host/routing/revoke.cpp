#include "routing/revoke.hpp"

#include <algorithm>

namespace gatehouse::host::routing {

bool same_backend(const GrantingHandler& granting, const RevokeHandler& candidate) {
  return candidate.id != granting.id && !granting.backend.empty() && !granting.provider.empty() &&
         candidate.provider == granting.provider && candidate.backend == granting.backend;
}

std::vector<RevokeTarget> revoke_targets(const GrantingHandler& granting, std::span<const RevokeHandler> handlers) {
  std::vector<RevokeTarget> out;
  if (!granting.exists) return out;  // rule 4: an admin decides (force-close or re-point)

  std::vector<const RevokeHandler*> healthy, unhealthy;
  for (const RevokeHandler& h : handlers)
    if (same_backend(granting, h)) (h.healthy ? healthy : unhealthy).push_back(&h);
  // By id, so that replicas ask in the same order.
  const auto by_id = [](const RevokeHandler* a, const RevokeHandler* b) { return a->id < b->id; };
  std::sort(healthy.begin(), healthy.end(), by_id);
  std::sort(unhealthy.begin(), unhealthy.end(), by_id);

  out.reserve(1 + healthy.size() + unhealthy.size());
  if (granting.healthy) out.push_back(RevokeTarget{granting.id, true});
  for (const RevokeHandler* h : healthy) out.push_back(RevokeTarget{h->id, false});
  if (!granting.healthy) out.push_back(RevokeTarget{granting.id, true});
  for (const RevokeHandler* h : unhealthy) out.push_back(RevokeTarget{h->id, false});
  return out;
}

}  // namespace gatehouse::host::routing
