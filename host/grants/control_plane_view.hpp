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

#include <nlohmann/json.hpp>

namespace gatehouse::host::grants {

struct TargetGroupView {
  std::string id;
  std::string kind;                    // the target kind name, e.g. "ProjectRole"
  nlohmann::json kind_schema;          // {title, properties: {...}, required: [...]} fixed at creation
  std::chrono::seconds max_duration;   // requests asking for more are refused
};

// A consistent view for one routing decision: the routing table snapshot and the health it was paired with.
struct RoutingView {
  std::shared_ptr<const routing::RoutingTable> table;
  std::shared_ptr<const routing::HandlerHealth> health;
};

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

  // A provider call on `handler_id` failed in a way that says the handler is broken (transport failure,
  // timeout). The control plane may mark it unhealthy at once instead of waiting for the next check.
  virtual void report_handler_failure(std::string_view handler_id, const Error& error) const {
    (void)handler_id;
    (void)error;
  }
};

}  // namespace gatehouse::host::grants
