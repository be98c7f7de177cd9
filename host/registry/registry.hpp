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
//   * a handler is routable only while healthy; a new handler is 'unknown' (not routable) until checked;
//   * a handler with `isolation: process` runs its provider in a supervised gatehouse-provider-runner
//     (host/isolation): a runner death marks it unhealthy at once, its restart healthy again.
#pragma once

#include "common/result.hpp"
#include "grants/control_plane_view.hpp"
#include "isolation/isolation_options.hpp"
#include "registry/provider_catalog.hpp"
#include "registry/failure_policy.hpp"
#include "registry/references.hpp"
#include "registry/routing_publisher.hpp"
#include "store/database.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace gatehouse::host::isolation {
class IsolatedClient;
}

namespace gatehouse::host::registry {

class RunnerEventQueue;

// The channel PostgreSQL notifies when handlers, target groups or routes change (migration 0012).
inline constexpr const char* kControlPlaneChannel = "gatehouse_control_plane";

// degraded: the provider serves but named some targets it cannot grant (UnavailableTarget); its routes stay
// usable, and requests for those targets are refused with the provider's reason.
enum class HealthStatus { unknown, healthy, degraded, unhealthy };
const char* health_status_name(HealthStatus status);
// Whether new grants may be routed to a handler of this status: healthy or degraded.
inline bool is_routable(HealthStatus status) {
  return status == HealthStatus::healthy || status == HealthStatus::degraded;
}

// A target a degraded handler cannot grant, as its provider's health check named it: `properties` are the
// ones that identify it (a subset of a request's target: {"role": "app_new"} matches every database).
struct UnavailableTarget {
  std::string kind;
  std::map<std::string, std::string> properties;
  std::string reason;
  // Whether a request for `target` (all its properties) of kind `target_kind` is one of these.
  bool matches(const std::string& target_kind, const std::map<std::string, std::string>& target) const {
    if (!kind.empty() && kind != target_kind) return false;
    for (const auto& [k, v] : properties) {
      auto it = target.find(k);
      if (it == target.end() || it->second != v) return false;
    }
    return true;
  }
};

// Where a handler's provider runs: loaded into this process, or in a supervised runner process of its own
// (a crash there costs the runner, never the host). Stored as the text of isolation_name().
enum class Isolation { in_process, process };
const char* isolation_name(Isolation isolation);                   // "in_process" / "process"
std::optional<Isolation> parse_isolation(std::string_view text);  // the inverse; nullopt for anything else

struct HandlerSpec {
  std::string id;
  std::string provider;   // "publisher/name@version"
  nlohmann::json config;  // as the operator wrote it; secrets as env:/file: references
  Isolation isolation = Isolation::in_process;
  // The system this handler manages, as the operator names it (check_backend_name()): handlers of one provider
  // with the same backend are interchangeable for revokes (routing/revoke.hpp). create: nullopt or "" = none;
  // update: nullopt keeps the handler's backend, "" removes it.
  std::optional<std::string> backend{};
};

// A backend name: 1–200 characters from [A-Za-z0-9._:/@-], starting with a letter or digit. Error
// invalid_argument with `path` (e.g. "/backend").
Result<void> check_backend_name(std::string_view backend, const std::string& path);

struct HandlerInfo {
  std::string id;
  ProviderRef provider;
  nlohmann::json config;  // as stored: secret fields are references, never values
  HealthStatus health = HealthStatus::unknown;
  std::string health_reason;
  std::optional<std::chrono::system_clock::time_point> health_checked_at;
  Isolation isolation = Isolation::in_process;
  std::vector<UnavailableTarget> unavailable_targets{};
  std::string incarnation{};  // unique per creation of this id (migration 0011); an update keeps it
  std::string backend{};  // empty: none declared (see HandlerSpec::backend)  // while degraded: what it cannot grant (not persisted)
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

// The cap on an isolated handler's call by default: a call is killed at its caller's deadline, or at this much
// after it started when the deadline is further (or none was given). The daemon sets it to its longest caller
// timeout, so the caller's deadline always decides.
inline constexpr std::chrono::milliseconds kDefaultRunnerCallTimeout{8'000};

// IsolationOptions' defaults with call_timeout = kDefaultRunnerCallTimeout.
isolation::IsolationOptions default_isolation_options();

struct RegistryOptions {
  // Runners of handlers with isolation: process (runner_path empty: find_runner(), isolation/runner_location.hpp).
  // on_health is the registry's own: whatever is set here is replaced.
  ::gatehouse::host::isolation::IsolationOptions isolation = default_isolation_options();
};

// Thread-safe: every public method may be called from any thread at once. mutex_ guards the in-memory model and
// is not held across database calls or instance starts and stops (except in open()); readers get copies or the
// immutable routing snapshot. Changes (create, update, delete and reconcile) are serialized by a second mutex
// held across their database write and memory update, so memory and database never disagree for long and a
// reconcile never undoes a change it did not see. Runner health reports are recorded on the RunnerEventQueue's
// thread; routing snapshots reach subscribers on the RoutingPublisher's thread.
//
// Several gatehoused may share one database (replicas): each keeps this model in memory, and a change committed
// through one reaches the others through reconcile() (registry_reconcile.cpp; the daemon calls it when
// PostgreSQL notifies channel kControlPlaneChannel, and reconcile_if_changed() periodically).
class Registry final : public grants::ControlPlaneView {
 public:
  // Reads handlers, target groups and routes from the store and creates handler instances. A handler whose
  // provider is missing or whose instance cannot be created is kept, unhealthy, with the reason.
  static Result<std::unique_ptr<Registry>> open(store::Database& db, std::shared_ptr<ProviderCatalog> catalog);
  static Result<std::unique_ptr<Registry>> open(store::Database& db, std::shared_ptr<ProviderCatalog> catalog,
                                                RegistryOptions options);

  // Every change below is one transaction; `before_commit` runs in it after the change's statements (the API
  // writes the change's audit row there), only when something was changed, so a refusal runs nothing.
  Result<HandlerInfo> create_handler(const HandlerSpec& spec, const store::BeforeCommit& before_commit = {});
  // Replaces a handler's provider, config and isolation (validated as for create). The new instance is created
  // first; the handler is 'unknown' until its next check, and its routes are re-evaluated.
  Result<HandlerInfo> update_handler(const HandlerSpec& spec, const store::BeforeCommit& before_commit = {});
  Result<void> delete_handler(std::string_view id, const store::BeforeCommit& before_commit = {});
  // Everything create_handler / update_handler check before they store anything (spec, config schema, secrets
  // as references, references resolved, an instance the provider accepts — created and destroyed again), with
  // no effect on the registry. `gatehouse apply` runs it for each handler it would create or update, dry run or
  // not, so a dry run refuses what the real run refuses (registry_checks.cpp).
  Result<void> check_handler(const HandlerSpec& spec);
  std::vector<HandlerInfo> handlers() const;
  std::optional<HandlerInfo> handler(std::string_view id) const;
  std::optional<HandlerRuntime> runtime(std::string_view id) const;
  // Secret rotation (secret_rotation.cpp), run before every health check: resolves the handler's env:/file:
  // references again and, when a resolved value differs from what its instance was created with (compared as
  // digests) or it has no instance, creates a new instance (a new runner when isolated) and swaps it in; calls
  // in flight finish on the old one. Returns a sentence naming the changed fields ("" when nothing changed).
  // Errors: "secret_unresolved" (a reference no longer resolves), "create_failed" (the provider refused the new
  // values); the old instance, if any, is kept. Never logs or returns a value.
  Result<std::string> refresh_secrets(std::string_view id);

  Result<TargetGroupInfo> create_target_group(const TargetGroupSpec& spec, const store::BeforeCommit& before_commit = {});
  // What create_target_group checks before it stores anything; the kind schema the group would fix.
  Result<nlohmann::json> check_target_group(const TargetGroupSpec& spec) const;
  // A new maximum for requests made from now on.
  Result<TargetGroupInfo> set_target_group_max_duration(std::string_view id, std::chrono::seconds max_duration,
                                                        const store::BeforeCommit& before_commit = {});
  Result<void> delete_target_group(std::string_view id, const store::BeforeCommit& before_commit = {});
  std::vector<TargetGroupInfo> target_groups() const;
  std::optional<TargetGroupInfo> find_target_group(std::string_view id) const;

  Result<RouteInfo> create_route(const RouteSpec& spec, const store::BeforeCommit& before_commit = {});
  Result<RouteInfo> set_route_priority(std::string_view group, std::string_view handler, std::string_view kind,
                                       int priority, const store::BeforeCommit& before_commit = {});
  Result<void> delete_route(std::string_view group, std::string_view handler, std::string_view kind,
                            const store::BeforeCommit& before_commit = {});
  std::vector<RouteInfo> routes() const;

  // Records a health check's outcome (persisted with its time). Publishes a new routing snapshot when the
  // status changed, and re-evaluates the handler's routes when it became healthy. For an isolated handler whose
  // runner is not running (restarting, down), `healthy` is overruled: unhealthy with the runner's reason.
  // `degraded` (with `unavailable`) applies only when `healthy`: the handler is recorded 'degraded', routable.
  Result<void> record_health(std::string_view handler_id, bool healthy, const std::string& reason,
                             bool degraded = false, std::vector<UnavailableTarget> unavailable = {});

  // Blocks until every runner health change reported so far has been recorded (tests, orderly shutdown).
  void drain_runner_events();

  // Replicas (registry_reconcile.cpp): brings the model to what the database holds now — handlers, target groups
  // and routes created, changed or deleted through another gatehoused on the same database. A handler whose row
  // changed (its revision, migration 0012) or is new gets an instance of its own here, with the health the
  // database last recorded; a deleted one is stopped; routes are re-evaluated against this replica's providers.
  // Publishes a new routing snapshot when anything changed, and answers whether anything did.
  Result<bool> reconcile();
  // The safety net for a lost notification: one query comparing the database's revisions with those the last
  // reconcile applied, and reconcile() only when they differ.
  Result<bool> reconcile_if_changed();

  // Every routing snapshot published from now on (a route, handler or health change), on the publisher's
  // thread (routing_publisher.hpp). How the grant engine learns that waiting grants may now be routable.
  RoutingPublisher::Subscription subscribe(RoutingPublisher::Callback callback);

  // grants::ControlPlaneView
  std::optional<grants::TargetGroupView> target_group(std::string_view id) const override;
  grants::RoutingView routing() const override;
  std::shared_ptr<ProviderClient> client(std::string_view handler_id) const override;
  bool handler_exists(std::string_view handler_id) const override;
  bool handler_healthy(std::string_view handler_id) const override;
  std::vector<grants::HandlerIdentity> handler_identities() const override;
  std::vector<grants::RouteState> route_states(std::string_view target_group) const override;
  void report_handler_failure(std::string_view handler_id, const Error& error) override;
  void report_handler_success(std::string_view handler_id) override;

  Registry(store::Database& db, std::shared_ptr<ProviderCatalog> catalog, RegistryOptions options = {});
  ~Registry() override;  // stops recording runner events, then stops isolated handlers' runners
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

 private:
  struct Handler {
    HandlerInfo info;
    HandlerRuntime runtime;
    // The isolated client (also runtime.client) when isolation is process; null otherwise.
    std::shared_ptr<isolation::IsolatedClient> isolated;
    // The last runner report was a death: the next "running again" report brings the handler back.
    bool runner_down = false;
    // runtime.instance_problem as a value (config_refusal.hpp: secret_unresolved / config_invalid under
    // /config), what create and update answer with; unset while there is an instance.
    std::optional<Error> instance_error;
    // When record_health last saw it turn unhealthy (route_states: "unhealthy since …"); unset when unknown.
    std::optional<std::chrono::system_clock::time_point> unhealthy_since;
    // SHA-256 of each resolved config field the instance was created with (secret_rotation.cpp): how a
    // rotated secret is noticed without keeping or logging its value. Empty while there is no instance.
    std::map<std::string, std::string> resolved_digests;
    // handlers.revision of the row this was built from (migration 0012): what reconcile compares.
    std::int64_t revision = 0;
  };
  using RouteKey = std::tuple<std::string, std::string, std::string>;  // target group, handler, kind

  Result<void> load();
  // Validates a handler spec (id, provider loaded, config against its schema, secrets as references) and
  // returns the provider reference; `config` receives the config to store.
  Result<ProviderRef> check_handler_spec(const HandlerSpec& spec, nlohmann::json& config) const;
  // check_handler_spec, then an instance: the one path create, update and check share (registry_checks.cpp).
  Result<Handler> prepare_handler(const HandlerSpec& spec, const std::string& health_reason);
  void instantiate_locked(Handler& handler);
  void create_client(Handler& handler, const nlohmann::json& resolved_config);
  void apply_runner_health(const std::string& handler_id, const isolation::RunnerHealth& health);
  RouteInfo evaluate_locked(RouteInfo route) const;
  Result<void> persist_route_validity(const RouteInfo& route);
  void publish_locked();
  // A handler as load() and reconcile() build it from its row (the columns of kHandlerColumns), instance included.
  Handler handler_from_row(const pqxx::row& row);

  store::Database& db_;
  std::shared_ptr<ProviderCatalog> catalog_;
  RegistryOptions options_;
  // Runner health reports arrive on supervisor threads; they are queued here and recorded on this queue's own
  // thread, so no isolation thread ever waits on the registry's lock or the database.
  std::shared_ptr<RunnerEventQueue> runner_events_;
  mutable std::mutex mutex_;
  // Serializes record_health (memory update + database write) so that concurrent recorders — the health monitor,
  // runner reports, the engine's failure reports — leave the database saying what memory says. Never taken
  // with mutex_ held.
  std::mutex health_write_mutex_;
  // Serializes changes to handlers, target groups and routes (their database write and memory update) and
  // reconcile. Taken before mutex_, never while holding it.
  std::mutex model_write_mutex_;
  // The engine's call reports, counted per handler (failure_policy.hpp). Taken alone, never with another lock.
  std::mutex failures_mutex_;
  FailurePolicy failures_;
  std::shared_ptr<RoutingPublisher> publisher_ = RoutingPublisher::create();
  // Revisions (migration 0012) of the rows the model holds; handlers keep theirs in Handler::revision.
  std::map<std::string, std::int64_t, std::less<>> group_revisions_;
  std::map<RouteKey, std::int64_t> route_revisions_;
  // The database's revisions fingerprint as the last reconcile read it (reconcile_if_changed).
  std::string applied_fingerprint_;
  std::map<std::string, Handler, std::less<>> handlers_;
  std::map<std::string, TargetGroupInfo, std::less<>> groups_;
  std::vector<RouteInfo> routes_;
  grants::RoutingView routing_;
};

}  // namespace gatehouse::host::registry
