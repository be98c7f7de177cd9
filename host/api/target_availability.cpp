#include "api/target_availability.hpp"

namespace gatehouse::host::api {

std::optional<Error> refuse_unavailable_target(const registry::Registry& registry, const registry::TargetGroupInfo& group,
                                               const std::map<std::string, std::string>& target) {
  std::string reasons;
  for (const auto& route : registry.routes()) {
    if (route.target_group != group.id || route.priority <= 0 || !route.valid) continue;
    const auto handler = registry.handler(route.handler);
    if (!handler || !registry::is_routable(handler->health)) continue;
    const std::string kind = route.kind.empty() ? group.kind.kind : route.kind;
    const registry::UnavailableTarget* refused = nullptr;
    for (const auto& u : handler->unavailable_targets) {
      if (u.matches(kind, target)) {
        refused = &u;
        break;
      }
    }
    if (!refused) return std::nullopt;  // this handler can serve it
    reasons += (reasons.empty() ? "" : "; ") + std::string("handler '") + handler->id + "' (degraded): " + refused->reason;
  }
  if (reasons.empty()) return std::nullopt;
  const std::string message = "no handler of target group '" + group.id + "' can grant this target now: " + reasons;
  return make_error(ErrorCode::failed_precondition, message, {Diagnostic{"/target", message}});
}

}  // namespace gatehouse::host::api
