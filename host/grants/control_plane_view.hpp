// What the grant engine needs from the control plane (handlers, their health and clients, target groups,
// routes). The registry implements it; the engine never touches registry tables itself.
#pragma once

#include "loader/provider_client.hpp"
#include "routing/router.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gatehouse::host::grants {

struct TargetGroupView {
  std::string id;
  std::string kind;                    // the target kind name, e.g. "ProjectRole"
  nlohmann::json kind_schema;          // {title, properties: {...}, required: [...]} fixed at creation
  std::chrono::seconds max_duration;   // requests asking for more are refused
};

// A handler as the revoke rule needs it (routing/revoke.hpp): which provider it runs and which backend the
// operator declared it to manage.
struct HandlerIdentity {
  std::string id;
  std::string provider;  // "publisher/name"
  std::string backend;   // empty: none declared
  bool healthy = false;
  // Unique per creation of this id (a handler deleted and created again gets a new one); empty: unknown.
  std::string incarnation{};

  // Whether this is another creation of the id than the one `recorded` (an incarnation written down when it
  // granted, or when a revoke was owed): false when either is unknown, so the id alone decides then.
  bool is_other_creation_than(std::string_view recorded) const {
    return !recorded.empty() && !incarnation.empty() && incarnation != recorded;
  }
};

// One route of a target group with what a routing decision saw of it: whether it could be a candidate, and if
// not why (disabled, invalid, its handler not healthy since when). What routing_skips.hpp explains in a grant's
// history; the routing table itself keeps only eligible routes.
struct RouteState {
  std::string handler;
  std::string kind;
  int priority = 0;  // 0 disables the route
  bool valid = false;
  std::string invalid_reason;
  bool healthy = false;
  std::string health_status;  // "healthy", "unhealthy", "unknown" (not checked yet)
  std::string health_reason;
  std::optional<std::chrono::system_clock::time_point> unhealthy_since;  // when it last stopped being healthy
};

// A consistent view for one routing decision: the routing table snapshot and the health it was paired with.
struct RoutingView {
  std::shared_ptr<const routing::RoutingTable> table;
  std::shared_ptr<const routing::HandlerHealth> health;
};

// Implementations must be thread-safe: the grant engine's workers call every method at once, while the control
// plane changes. What routing() hands out is shared by concurrent decisions: immutable, or synchronized itself.
class ControlPlaneView {
 public:
  virtual ~ControlPlaneView() = default;

  virtual std::optional<TargetGroupView> target_group(std::string_view id) const = 0;

  // The current routing snapshot. Must be cheap: called once per grant transition.
  virtual RoutingView routing() const = 0;

  // The live client of a handler; null when the handler does not exist (deleted) or has no instance.
  virtual std::shared_ptr<ProviderClient> client(std::string_view handler_id) const = 0;
  virtual bool handler_exists(std::string_view handler_id) const = 0;
  virtual bool handler_healthy(std::string_view handler_id) const = 0;

  // Every configured handler with its provider and backend: who may confirm a revoke besides the granting
  // handler. Default: no identities known, so a revoke goes to the granting handler only.
  virtual std::vector<HandlerIdentity> handler_identities() const { return {}; }
  std::optional<HandlerIdentity> handler_identity(std::string_view handler_id) const {
    for (auto& h : handler_identities())
      if (h.id == handler_id) return h;
    return std::nullopt;
  }

  // Every route of `target_group` (any priority, valid or not) with its handler's health, for explaining why a
  // decision passed a route over. Default: none known, so nothing is explained.
  virtual std::vector<RouteState> route_states(std::string_view target_group) const {
    (void)target_group;
    return {};
  }

  // What each provider call on `handler_id` ended with, reported by the engine after every Grant and Revoke
  // (compensating ones included): a failure with its error, whatever the code, or a success. The control plane
  // decides from them whether the handler counts as failing before its next check (the registry:
  // registry/failure_policy.hpp). Reports change the control plane's health, so they are not const.
  virtual void report_handler_failure(std::string_view handler_id, const Error& error) {
    (void)handler_id;
    (void)error;
  }
  virtual void report_handler_success(std::string_view handler_id) { (void)handler_id; }
};

}  // namespace gatehouse::host::grants
