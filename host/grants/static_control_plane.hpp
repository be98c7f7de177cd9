// A ControlPlaneView held in memory: handlers (with their live clients and health), target groups and
// routes set by the owner. For tools, tests and benchmarks that drive the grant engine without the
// registry; thread-safe, so it may be changed while engines are running (a route or health change takes
// effect at the engine's next routing decision).
#pragma once

#include "grants/control_plane_view.hpp"

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::host::grants {

class StaticControlPlane final : public ControlPlaneView {
 public:
  StaticControlPlane();
  ~StaticControlPlane() override;

  // Adds or replaces a handler.
  void set_handler(const std::string& id, std::shared_ptr<ProviderClient> client, bool healthy = true);
  void remove_handler(const std::string& id);  // the handler is gone: no client, not healthy, not existing
  void set_healthy(const std::string& id, bool healthy);
  // set_healthy with the reason route_states() reports (unhealthy_since: when it last turned unhealthy).
  void set_health(const std::string& id, bool healthy, const std::string& reason);
  // The provider ("publisher/name") and declared backend of an existing handler (revoke rule; default: none).
  void set_identity(const std::string& id, const std::string& provider, const std::string& backend);
  void set_target_group(TargetGroupView group);
  // Replaces every route; a table the router refuses leaves the previous one in place and returns its Error.
  Result<void> set_routes(const std::vector<routing::Route>& routes);
  // When true, report_handler_failure() marks the handler unhealthy at once for a transport_failed,
  // bad_response or deadline_exceeded (what a health subsystem may do; the registry waits for three in a row
  // but for transport_failed).
  void set_unhealthy_on_failure(bool on);

  // Every report_handler_failure() so far of those three codes: (handler, error code).
  std::vector<std::pair<std::string, std::string>> reported_failures() const;

  std::optional<TargetGroupView> target_group(std::string_view id) const override;
  RoutingView routing() const override;
  std::shared_ptr<ProviderClient> client(std::string_view handler_id) const override;
  bool handler_exists(std::string_view handler_id) const override;
  bool handler_healthy(std::string_view handler_id) const override;
  std::vector<HandlerIdentity> handler_identities() const override;
  std::vector<RouteState> route_states(std::string_view target_group) const override;
  void report_handler_failure(std::string_view handler_id, const Error& error) override;

  struct State;  // opaque; shared with the health objects handed out by routing()

 private:
  std::shared_ptr<State> state_;
};

}  // namespace gatehouse::host::grants
