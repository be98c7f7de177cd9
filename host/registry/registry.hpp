// The control plane's model: handlers (configured provider instances and their health), target groups and
// routes, persisted in PostgreSQL and kept in memory for the hot path. It publishes an immutable routing
// snapshot (routing table + handler health) whenever routes or health change, and it is the grant engine's
// ControlPlaneView.
//
// Rules enforced here:
//   * a handler config is validated against its provider's config schema; secret fields must be given as
//     references (env:NAME, file:PATH) — a literal secret is refused, so secrets never reach the database;
//   * a target group fixes the kind schema of publisher/name@version/Kind when it is created;
//   * a route is valid only when the handler's provider has the kind and its schema is compatible with the
//     group's (routing/kind_compatibility.hpp); the reason is stored and shown when it is not. Validity is
//     re-evaluated when a handler becomes healthy again (its provider may have changed);
//   * a handler is routable only while healthy; a new handler is 'unknown' (not routable) until checked.
#pragma once

#include "common/result.hpp"
#include "grants/control_plane_view.hpp"
#include "registry/provider_catalog.hpp"
#include "registry/references.hpp"
#include "store/database.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::host::registry {

enum class HealthStatus { unknown, healthy, unhealthy };
const char* health_status_name(HealthStatus status);

struct HandlerSpec {
  std::string id;
  std::string provider;   // "publisher/name@version"
  nlohmann::json config;  // as the operator wrote it; secrets as env:/file: references
};

struct HandlerInfo {
  std::string id;
  ProviderRef provider;
  nlohmann::json config;  // as stored: secret fields are references, never values
  HealthStatus health = HealthStatus::unknown;
  std::string health_reason;
  std::optional<std::chrono::system_clock::time_point> health_checked_at;
};

struct TargetGroupSpec {
  std::string id;
  std::string kind;  // "publisher/name@version/Kind"
  std::chrono::seconds max_duration{std::chrono::hours(8)};
};

struct TargetGroupInfo {
  std::string id;
  KindRef kind;
  nlohmann::json kind_schema;
  std::chrono::seconds max_duration{0};
};

struct RouteSpec {
  std::string target_group;
  std::string handler;
  std::string kind;  // the handler provider's target kind; empty = the group's kind name
  int priority = 0;  // 0–999; 0 disables
};

struct RouteInfo {
  std::string target_group;
  std::string handler;
  std::string kind;
  int priority = 0;
  bool valid = false;
  std::string invalid_reason;
};

// What the health monitor needs to check a handler.
struct HandlerRuntime {
  std::string id;
  std::shared_ptr<ProviderModule> module;  // null when its provider is not loaded
  std::shared_ptr<ProviderClient> client;  // null when the instance could not be created
  nlohmann::json config;                   // as stored (references)
  std::string instance_problem;            // why there is no client
};

class Registry final : public grants::ControlPlaneView {
 public:
  // Reads handlers, target groups and routes from the store and creates handler instances. A handler whose
  // provider is missing or whose instance cannot be created is kept, unhealthy, with the reason.
  static Result<std::unique_ptr<Registry>> open(store::Database& db, std::shared_ptr<ProviderCatalog> catalog);

  Result<HandlerInfo> create_handler(const HandlerSpec& spec);
  Result<void> delete_handler(std::string_view id);
  std::vector<HandlerInfo> handlers() const;
  std::optional<HandlerInfo> handler(std::string_view id) const;
  std::optional<HandlerRuntime> runtime(std::string_view id) const;

  Result<TargetGroupInfo> create_target_group(const TargetGroupSpec& spec);
  Result<void> delete_target_group(std::string_view id);
  std::vector<TargetGroupInfo> target_groups() const;
  std::optional<TargetGroupInfo> find_target_group(std::string_view id) const;

  Result<RouteInfo> create_route(const RouteSpec& spec);
  Result<RouteInfo> set_route_priority(std::string_view group, std::string_view handler, std::string_view kind,
                                       int priority);
  Result<void> delete_route(std::string_view group, std::string_view handler, std::string_view kind);
  std::vector<RouteInfo> routes() const;

  // Records a health check's outcome (persisted with its time). Publishes a new routing snapshot when the
  // status changed, and re-evaluates the handler's routes when it became healthy.
  Result<void> record_health(std::string_view handler_id, bool healthy, const std::string& reason);

  // grants::ControlPlaneView
  std::optional<grants::TargetGroupView> target_group(std::string_view id) const override;
  grants::RoutingView routing() const override;
  std::shared_ptr<ProviderClient> client(std::string_view handler_id) const override;
  bool handler_exists(std::string_view handler_id) const override;
  bool handler_healthy(std::string_view handler_id) const override;
  void report_handler_failure(std::string_view handler_id, const Error& error) const override;

  Registry(store::Database& db, std::shared_ptr<ProviderCatalog> catalog);

 private:
  struct Handler {
    HandlerInfo info;
    HandlerRuntime runtime;
  };

  Result<void> load();
  void instantiate_locked(Handler& handler);
  RouteInfo evaluate_locked(RouteInfo route) const;
  Result<void> persist_route_validity(const RouteInfo& route);
  void publish_locked();

  store::Database& db_;
  std::shared_ptr<ProviderCatalog> catalog_;
  mutable std::mutex mutex_;
  std::map<std::string, Handler, std::less<>> handlers_;
  std::map<std::string, TargetGroupInfo, std::less<>> groups_;
  std::vector<RouteInfo> routes_;
  grants::RoutingView routing_;
};

}  // namespace gatehouse::host::registry
