#include "routing/revoke.hpp"

namespace gatehouse::host::routing {

std::optional<RevokeTarget> revoke_target(GrantingHandler granted_by, std::string_view kind,
                                          std::span<const Candidate> ordered, const HandlerHealth& health) {
  if (granted_by.exists && health.healthy(HandlerRef{granted_by.id, kNoHandlerIndex}))
    return RevokeTarget{granted_by.id, kind, true};
  for (const Candidate& c : ordered) {
    if (c.kind != kind || c.handler == granted_by.id) continue;
    if (health.healthy(c.handler_ref())) return RevokeTarget{c.handler, c.kind, false};
  }
  return std::nullopt;
}

std::optional<RevokeTarget> revoke_target(GrantingHandler granted_by, std::string_view kind,
                                          const RoutingTable& table, std::string_view target_group,
                                          const HandlerHealth& health) {
  const HandlerRef granting = table.handler(granted_by.id);
  if (granted_by.exists && health.healthy(granting)) return RevokeTarget{granted_by.id, kind, true};

  // Same rule as above, comparing interned ids instead of text: the walk may pass many routes.
  const std::string_view same_kind = table.interned_kind(kind);
  if (same_kind.empty()) return std::nullopt;  // no route of the table serves this kind
  const detail::HealthProbe healthy(health, table.snapshot_id());
  for (const Candidate& c : table.eligible(target_group)) {
    if (c.kind.data() != same_kind.data() || c.handler_index == granting.index) continue;
    if (healthy(c)) return RevokeTarget{c.handler, c.kind, false};
  }
  return std::nullopt;
}

}  // namespace gatehouse::host::routing
