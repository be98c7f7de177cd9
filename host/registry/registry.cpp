#include "registry/registry.hpp"

#include "isolation/isolated_module.hpp"
#include "isolation/runner_location.hpp"
#include "registry/config_refusal.hpp"
#include "registry/registry_rows.hpp"
#include "registry/runner_events.hpp"
#include "registry/secret_rotation.hpp"
#include "routing/health_bitset.hpp"
#include "routing/kind_compatibility.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gatehouse::host::registry {
namespace {

using nlohmann::json;

Error database_error(const Error& e, const std::string& what) {
  // The SQLSTATE is a field of the error (never parsed back out of its text); the database's error stays the cause.
  if (e.sqlstate == "23505") return wrap_error(e, ErrorCode::already_exists, what + " already exists");
  if (e.sqlstate == "23503")
    return wrap_error(e, ErrorCode::failed_precondition, what + " is still referenced: " + e.message);
  return e;
}

std::optional<std::chrono::system_clock::time_point> parse_epoch(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::chrono::system_clock::time_point(std::chrono::microseconds(
      static_cast<std::int64_t>(f.as<double>() * 1e6)));
}

HealthStatus parse_status(const std::string& s) {
  if (s == "healthy") return HealthStatus::healthy;
  if (s == "degraded") return HealthStatus::degraded;
  if (s == "unhealthy") return HealthStatus::unhealthy;
  return HealthStatus::unknown;
}

// The not_found of a route this registry does not hold.
Error no_route(std::string_view group, std::string_view handler, std::string_view kind) {
  return make_error(ErrorCode::not_found, "no route " + std::string(group) + " -> " + std::string(handler) + " (" +
                                              std::string(kind) + ")");
}

}  // namespace

const char* isolation_name(Isolation isolation) {
  return isolation == Isolation::process ? "process" : "in_process";
}

std::optional<Isolation> parse_isolation(std::string_view text) {
  if (text == "in_process") return Isolation::in_process;
  if (text == "process") return Isolation::process;
  return std::nullopt;
}

isolation::IsolationOptions default_isolation_options() {
  isolation::IsolationOptions options;
  options.call_timeout = kDefaultRunnerCallTimeout;
  return options;
}

const char* health_status_name(HealthStatus status) {
  switch (status) {
    case HealthStatus::healthy: return "healthy";
    case HealthStatus::degraded: return "degraded";
    case HealthStatus::unhealthy: return "unhealthy";
    case HealthStatus::unknown: break;
  }
  return "unknown";
}

Registry::Registry(store::Database& db, std::shared_ptr<ProviderCatalog> catalog, RegistryOptions options)
    : db_(db),
      catalog_(std::move(catalog)),
      options_(std::move(options)),
      runner_events_(std::make_shared<RunnerEventQueue>()) {
  // Runs on isolation threads: only post. The queue is shared with every supervisor (it outlives this registry
  // if a runner does); the registry stops it before it goes, so no posted task ever reaches a dead registry.
  options_.isolation.on_health = [events = runner_events_, this](const std::string& handler_id,
                                                                 const isolation::RunnerHealth& health) {
    events->post([this, handler_id, health] { apply_runner_health(handler_id, health); });
  };
}

Registry::~Registry() {
  publisher_->stop();  // no subscriber hears of the teardown
  runner_events_->stop();
  // Runners are stopped (gracefully, bounded by their grace period) without the lock held.
  std::map<std::string, Handler, std::less<>> handlers;
  {
    std::lock_guard lock(mutex_);
    handlers.swap(handlers_);
  }
}

Result<std::unique_ptr<Registry>> Registry::open(store::Database& db, std::shared_ptr<ProviderCatalog> catalog) {
  return open(db, std::move(catalog), RegistryOptions{});
}

Result<std::unique_ptr<Registry>> Registry::open(store::Database& db, std::shared_ptr<ProviderCatalog> catalog,
                                                 RegistryOptions options) {
  auto registry = std::make_unique<Registry>(db, std::move(catalog), std::move(options));
  if (auto loaded = registry->load(); !loaded) return loaded.take_error();
  return registry;
}

Registry::Handler Registry::handler_from_row(const pqxx::row& row) {
  Handler h;
  h.info.id = row[0].as<std::string>();
  h.info.provider = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()};
  h.info.config = json::parse(row[4].as<std::string>());
  h.info.health = parse_status(row[5].as<std::string>());
  h.info.health_reason = row[6].as<std::string>();
  h.info.health_checked_at = parse_epoch(row[7]);
  // The column's CHECK admits only the two names.
  h.info.isolation = parse_isolation(row[8].as<std::string>()).value_or(Isolation::in_process);
  h.info.backend = row[9].as<std::string>();
  h.info.incarnation = row[kHandlerIncarnationColumn].as<std::string>();
  h.revision = row[kHandlerRevisionColumn].as<std::int64_t>();
  instantiate_locked(h);  // touches only h
  return h;
}

Result<void> Registry::load() {
  std::lock_guard writing(model_write_mutex_);
  auto loaded = db_.with_transaction([&](pqxx::work& txn) {
    std::lock_guard lock(mutex_);
    for (const auto& row : txn.exec(std::string("SELECT ") + kHandlerColumns + " FROM handlers ORDER BY id")) {
      Handler h = handler_from_row(row);
      handlers_.emplace(h.info.id, std::move(h));
    }
    for (const auto& row : txn.exec(std::string("SELECT ") + kTargetGroupColumns + " FROM target_groups ORDER BY id")) {
      auto [group, revision] = target_group_from_row(row);
      group_revisions_[group.id] = revision;
      groups_.emplace(group.id, std::move(group));
    }
    for (const auto& row : txn.exec(std::string("SELECT ") + kRouteColumns + " FROM routes "
                                    "ORDER BY target_group_id, handler_id, kind")) {
      auto [route, revision] = route_from_row(row);
      route_revisions_[{route.target_group, route.handler, route.kind}] = revision;
      routes_.push_back(evaluate_locked(std::move(route)));
    }
    // Validity is recomputed against the providers loaded now; store what we computed.
    for (const auto& r : routes_) {
      txn.exec_params("UPDATE routes SET valid = $4, invalid_reason = NULLIF($5, ''), updated_at = now() "
                      "WHERE target_group_id = $1 AND handler_id = $2 AND kind = $3 AND "
                      "(valid IS DISTINCT FROM $4 OR invalid_reason IS DISTINCT FROM NULLIF($5, ''))",
                      r.target_group, r.handler, r.kind, r.valid, r.invalid_reason);
    }
    publish_locked();
  });
  return loaded;
}

void Registry::instantiate_locked(Handler& h) {
  h.runtime = HandlerRuntime{h.info.id, catalog_->find(h.info.provider), nullptr, h.info.config, ""};
  h.isolated.reset();
  h.runner_down = false;
  h.resolved_digests.clear();
  h.instance_error.reset();
  if (!h.runtime.module) {
    h.runtime.instance_problem = "provider " + h.info.provider.text() + " is not loaded";
    h.instance_error = make_error(ErrorCode::not_found, h.runtime.instance_problem, {{"/provider", "not loaded"}});
  } else if (auto resolved = resolve_secrets(h.runtime.module->schema(), h.info.config); !resolved) {
    h.instance_error = config_refusal(resolved.take_error());
    h.runtime.instance_problem = h.instance_error->describe();
  } else {
    create_client(h, *resolved);
    if (h.runtime.client) h.resolved_digests = resolved_digests_of(*resolved);
  }
  if (!h.runtime.client) {
    h.info.health = HealthStatus::unhealthy;
    h.info.health_reason = h.runtime.instance_problem;
  }
}

void Registry::create_client(Handler& h, const json& resolved_config) {
  if (h.info.isolation == Isolation::in_process) {
    auto client = h.runtime.module->create(resolved_config, h.info.id);
    if (!client) {
      h.instance_error = config_refusal(client.take_error());
      h.runtime.instance_problem = h.instance_error->describe();
    } else {
      h.runtime.client = std::shared_ptr<ProviderClient>(std::move(*client));
    }
    return;
  }
  // The catalog's module was accepted by an out-of-process scan; its identity and schema describe the file. The
  // instance itself lives in a runner of its own (one per handler), supervised, its health reported to us.
  auto runner = isolation::find_runner(options_.isolation.runner_path);
  if (!runner) {
    h.instance_error = runner.error();
    h.runtime.instance_problem = runner.error().describe();
    return;
  }
  const auto& loaded = *h.runtime.module;
  auto module = std::make_shared<isolation::IsolatedModule>(loaded.identity(), loaded.schema(), loaded.path(),
                                                            *runner, options_.isolation);
  auto client = module->create(resolved_config, h.info.id);
  if (!client) {
    h.instance_error = config_refusal(client.take_error());
    h.runtime.instance_problem = h.instance_error->describe();
    return;
  }
  std::shared_ptr<ProviderClient> shared = std::move(*client);
  h.isolated = std::dynamic_pointer_cast<isolation::IsolatedClient>(shared);
  h.runtime.module = std::move(module);
  h.runtime.client = std::move(shared);
}

Result<HandlerInfo> Registry::create_handler(const HandlerSpec& spec, const store::BeforeCommit& before_commit) {
  std::lock_guard writing(model_write_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (handlers_.count(spec.id)) return make_error(ErrorCode::already_exists, "handler '" + spec.id + "' already exists");
  }
  auto prepared = prepare_handler(spec, "not checked yet");  // the checks check_handler runs too
  if (!prepared) return prepared.take_error();
  Handler h = std::move(*prepared);
  h.info.backend = spec.backend.value_or("");
  const ProviderRef* ref = &h.info.provider;
  const json& config = h.info.config;
  auto inserted = db_.with_transaction([&](pqxx::work& txn) {
    const auto row =
        txn.exec_params1("INSERT INTO handlers (id, provider_publisher, provider_name, provider_version, config, "
                         "health_status, health_reason, isolation, backend) "
                         "VALUES ($1, $2, $3, $4, $5::jsonb, 'unknown', $6, $7, NULLIF($8, '')) "
                         "RETURNING incarnation, revision",
                         spec.id, ref->publisher, ref->name, ref->version, config.dump(), h.info.health_reason,
                         std::string(isolation_name(spec.isolation)), h.info.backend);
    h.info.incarnation = row[0].as<std::string>();
    h.revision = row[1].as<std::int64_t>();
    if (before_commit) before_commit(txn);
  });
  if (!inserted) return database_error(inserted.error(), "handler '" + spec.id + "'");  // h's runner stops here
  HandlerInfo info = h.info;
  std::optional<Handler> replaced;  // a concurrent create of the same id lost the race in the database
  std::lock_guard lock(mutex_);
  if (auto it = handlers_.find(spec.id); it != handlers_.end()) {
    replaced.emplace(std::move(it->second));
    it->second = std::move(h);
  } else {
    handlers_.emplace(spec.id, std::move(h));
  }
  publish_locked();
  return info;
}

Result<void> Registry::delete_handler(std::string_view id, const store::BeforeCommit& before_commit) {
  std::lock_guard writing(model_write_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (!handlers_.count(id)) return make_error(ErrorCode::not_found, "handler '" + std::string(id) + "' does not exist");
  }
  auto deleted = db_.with_transaction([&](pqxx::work& txn) {
    const auto affected = txn.exec_params("DELETE FROM handlers WHERE id = $1", std::string(id)).affected_rows();
    if (affected > 0 && before_commit) before_commit(txn);  // deleted through another replica: nothing changed here
  });
  if (!deleted) return deleted.take_error();
  std::optional<Handler> removed;  // destroyed after the lock is released: stopping a runner takes a while
  std::lock_guard lock(mutex_);
  if (auto it = handlers_.find(id); it != handlers_.end()) {  // a concurrent delete may have won
    removed.emplace(std::move(it->second));
    handlers_.erase(it);
  }
  std::erase_if(routes_, [&](const RouteInfo& r) { return r.handler == id; });
  std::erase_if(route_revisions_, [&](const auto& entry) { return std::get<1>(entry.first) == id; });
  publish_locked();
  return {};
}

std::vector<HandlerInfo> Registry::handlers() const {
  std::lock_guard lock(mutex_);
  std::vector<HandlerInfo> out;
  for (const auto& [_, h] : handlers_) out.push_back(h.info);
  return out;
}

std::optional<HandlerInfo> Registry::handler(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(id);
  if (it == handlers_.end()) return std::nullopt;
  return it->second.info;
}

std::optional<HandlerRuntime> Registry::runtime(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(id);
  if (it == handlers_.end()) return std::nullopt;
  return it->second.runtime;
}

Result<TargetGroupInfo> Registry::create_target_group(const TargetGroupSpec& spec,
                                                        const store::BeforeCommit& before_commit) {
  auto schema = check_target_group(spec);  // the checks `gatehouse apply` runs for its plan (registry_checks.cpp)
  if (!schema) return schema.take_error();
  auto kind = parse_kind_ref(spec.kind);
  TargetGroupInfo group{spec.id, *kind, *schema, spec.max_duration};
  std::lock_guard writing(model_write_mutex_);
  auto inserted = db_.with_transaction([&](pqxx::work& txn) {
    const auto revision =
        txn.exec_params1("INSERT INTO target_groups (id, provider_publisher, provider_name, provider_version, kind, "
                         "kind_schema, max_duration_seconds) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING revision",
                         group.id, kind->provider.publisher, kind->provider.name, kind->provider.version, kind->kind,
                         schema->dump(), static_cast<long long>(spec.max_duration.count()))[0]
            .as<std::int64_t>();
    if (before_commit) before_commit(txn);
    return revision;
  });
  if (!inserted) return database_error(inserted.error(), "target group '" + spec.id + "'");
  std::lock_guard lock(mutex_);
  groups_.insert_or_assign(group.id, group);
  group_revisions_[group.id] = *inserted;
  return group;
}

Result<void> Registry::delete_target_group(std::string_view id, const store::BeforeCommit& before_commit) {
  std::lock_guard writing(model_write_mutex_);
  auto deleted = db_.with_transaction([&](pqxx::work& txn) {
    const auto affected = txn.exec_params("DELETE FROM target_groups WHERE id = $1", std::string(id)).affected_rows();
    if (affected > 0 && before_commit) before_commit(txn);
    return affected;
  });
  if (!deleted) return database_error(deleted.error(), "target group '" + std::string(id) + "'");
  if (*deleted == 0) return make_error(ErrorCode::not_found, "target group '" + std::string(id) + "' does not exist");
  std::lock_guard lock(mutex_);
  if (auto it = groups_.find(id); it != groups_.end()) groups_.erase(it);
  if (auto it = group_revisions_.find(id); it != group_revisions_.end()) group_revisions_.erase(it);
  std::erase_if(routes_, [&](const RouteInfo& r) { return r.target_group == id; });
  std::erase_if(route_revisions_, [&](const auto& entry) { return std::get<0>(entry.first) == id; });
  publish_locked();
  return {};
}

std::vector<TargetGroupInfo> Registry::target_groups() const {
  std::lock_guard lock(mutex_);
  std::vector<TargetGroupInfo> out;
  for (const auto& [_, g] : groups_) out.push_back(g);
  return out;
}

std::optional<TargetGroupInfo> Registry::find_target_group(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return std::nullopt;
  return it->second;
}

RouteInfo Registry::evaluate_locked(RouteInfo route) const {
  route.valid = false;
  auto group = groups_.find(route.target_group);
  auto handler = handlers_.find(route.handler);
  if (group == groups_.end()) {
    route.invalid_reason = "target group '" + route.target_group + "' does not exist";
  } else if (handler == handlers_.end()) {
    route.invalid_reason = "handler '" + route.handler + "' does not exist";
  } else if (!handler->second.runtime.module) {
    route.invalid_reason = "provider " + handler->second.info.provider.text() + " of handler '" + route.handler +
                           "' is not loaded";
  } else if (auto kind = kind_schema_of(*handler->second.runtime.module, route.kind); !kind) {
    route.invalid_reason = kind.error().message;
  } else if (auto compatible = routing::check_kind_compatibility(group->second.kind_schema, *kind); !compatible) {
    route.invalid_reason = compatible.error().message;
  } else {
    route.valid = true;
    route.invalid_reason.clear();
  }
  return route;
}

Result<RouteInfo> Registry::create_route(const RouteSpec& spec, const store::BeforeCommit& before_commit) {
  if (spec.priority < 0 || spec.priority > 999) {
    return make_error(ErrorCode::invalid_argument, "priority must be between 0 and 999 (0 disables the route)",
                      {{"/priority", "out of range 0-999"}});
  }
  RouteInfo route;
  std::lock_guard writing(model_write_mutex_);
  {
    std::lock_guard lock(mutex_);
    auto group = groups_.find(spec.target_group);
    if (group == groups_.end()) {
      return make_error(ErrorCode::not_found, "target group '" + spec.target_group + "' does not exist", {{"/target_group", "not found"}});
    }
    if (!handlers_.count(spec.handler)) {
      return make_error(ErrorCode::not_found, "handler '" + spec.handler + "' does not exist", {{"/handler", "not found"}});
    }
    route = evaluate_locked(RouteInfo{spec.target_group, spec.handler,
                                      spec.kind.empty() ? group->second.kind.kind : spec.kind, spec.priority, false, ""});
  }
  auto inserted = db_.with_transaction([&](pqxx::work& txn) {
    const auto revision =
        txn.exec_params1("INSERT INTO routes (target_group_id, handler_id, kind, priority, valid, invalid_reason) "
                         "VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')) RETURNING revision",
                         route.target_group, route.handler, route.kind, route.priority, route.valid,
                         route.invalid_reason)[0]
            .as<std::int64_t>();
    if (before_commit) before_commit(txn);
    return revision;
  });
  if (!inserted) {
    return database_error(inserted.error(), "route " + route.target_group + " -> " + route.handler + " (" + route.kind + ")");
  }
  std::lock_guard lock(mutex_);
  routes_.push_back(route);
  route_revisions_[{route.target_group, route.handler, route.kind}] = *inserted;
  publish_locked();
  return route;
}

Result<RouteInfo> Registry::set_route_priority(std::string_view group, std::string_view handler, std::string_view kind,
                                               int priority, const store::BeforeCommit& before_commit) {
  if (priority < 0 || priority > 999) {
    return make_error(ErrorCode::invalid_argument, "priority must be between 0 and 999 (0 disables the route)",
                      {{"/priority", "out of range 0-999"}});
  }
  std::lock_guard writing(model_write_mutex_);
  {
    // Refused before anything changes when this replica does not know the route (yet): an answer of not_found
    // must mean that nothing was changed.
    std::lock_guard lock(mutex_);
    if (std::none_of(routes_.begin(), routes_.end(), [&](const RouteInfo& r) {
          return r.target_group == group && r.handler == handler && r.kind == kind;
        }))
      return no_route(group, handler, kind);
  }
  auto updated = db_.with_transaction([&](pqxx::work& txn) -> std::optional<std::int64_t> {
    const auto rows = txn.exec_params("UPDATE routes SET priority = $4, updated_at = now() WHERE target_group_id = $1 "
                                      "AND handler_id = $2 AND kind = $3 RETURNING revision",
                                      std::string(group), std::string(handler), std::string(kind), priority);
    if (rows.empty()) return std::nullopt;
    if (before_commit) before_commit(txn);
    return rows[0][0].as<std::int64_t>();
  });
  if (!updated) return updated.take_error();
  if (!*updated) return no_route(group, handler, kind);  // deleted through another replica meanwhile
  std::lock_guard lock(mutex_);
  for (auto& r : routes_) {
    if (r.target_group == group && r.handler == handler && r.kind == kind) {
      r.priority = priority;
      route_revisions_[{r.target_group, r.handler, r.kind}] = **updated;
      publish_locked();
      return r;
    }
  }
  return no_route(group, handler, kind);
}

Result<void> Registry::delete_route(std::string_view group, std::string_view handler, std::string_view kind,
                                    const store::BeforeCommit& before_commit) {
  std::lock_guard writing(model_write_mutex_);
  auto deleted = db_.with_transaction([&](pqxx::work& txn) {
    const auto affected =
        txn.exec_params("DELETE FROM routes WHERE target_group_id = $1 AND handler_id = $2 AND kind = $3",
                        std::string(group), std::string(handler), std::string(kind))
            .affected_rows();
    if (affected > 0 && before_commit) before_commit(txn);
    return affected;
  });
  if (!deleted) return deleted.take_error();
  if (*deleted == 0) return no_route(group, handler, kind);
  std::lock_guard lock(mutex_);
  std::erase_if(routes_, [&](const RouteInfo& r) { return r.target_group == group && r.handler == handler && r.kind == kind; });
  route_revisions_.erase(RouteKey{std::string(group), std::string(handler), std::string(kind)});
  publish_locked();
  return {};
}

std::vector<RouteInfo> Registry::routes() const {
  std::lock_guard lock(mutex_);
  return routes_;
}

Result<void> Registry::record_health(std::string_view handler_id, bool healthy, const std::string& checked_reason,
                                     bool degraded, std::vector<UnavailableTarget> unavailable) {
  std::lock_guard writing(health_write_mutex_);
  std::string reason = checked_reason;
  if (healthy) {
    // A check that passed just before its runner died must not bring the handler back while the runner is gone.
    std::shared_ptr<isolation::IsolatedClient> isolated;
    {
      std::lock_guard lock(mutex_);
      if (auto it = handlers_.find(handler_id); it != handlers_.end()) isolated = it->second.isolated;
    }
    if (isolated) {
      if (const auto runner = isolated->health(); !runner.healthy) {
        healthy = false;
        reason = runner.reason.empty() ? "provider runner is " + std::string(isolation::runner_state_name(runner.state))
                                       : runner.reason;
      }
    }
  }
  degraded = healthy && degraded;
  if (healthy) report_handler_success(handler_id);  // a healthy check clears the count of failed calls
  const HealthStatus new_status =
      !healthy ? HealthStatus::unhealthy : degraded ? HealthStatus::degraded : HealthStatus::healthy;
  const std::string status = health_status_name(new_status);
  std::vector<RouteInfo> reevaluated;
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(handler_id);
    if (it == handlers_.end()) return make_error(ErrorCode::not_found, "handler '" + std::string(handler_id) + "' does not exist");
    auto& info = it->second.info;
    const auto before = info.health;
    info.health = new_status;
    info.health_reason = reason;
    info.unavailable_targets = degraded ? std::move(unavailable) : std::vector<UnavailableTarget>{};
    info.health_checked_at = std::chrono::system_clock::now();
    changed = before != info.health;
    if (changed) {
      if (healthy)
        it->second.unhealthy_since.reset();
      else
        it->second.unhealthy_since = info.health_checked_at;
      // A warning: a handler's health decides where grants go and how soon owed revokes land.
      spdlog::warn("handler {} is now {}: {}", handler_id, status, reason);
      if (healthy) {
        for (auto& r : routes_) {
          if (r.handler != handler_id) continue;
          r = evaluate_locked(r);
          reevaluated.push_back(r);
        }
      }
      publish_locked();
    }
  }
  auto stored = db_.with_transaction([&](pqxx::work& txn) {
    txn.exec_params("UPDATE handlers SET health_status = $2, health_reason = $3, health_checked_at = now(), "
                    "updated_at = now() WHERE id = $1",
                    std::string(handler_id), status, reason);
    for (const auto& r : reevaluated) {
      txn.exec_params("UPDATE routes SET valid = $4, invalid_reason = NULLIF($5, ''), updated_at = now() "
                      "WHERE target_group_id = $1 AND handler_id = $2 AND kind = $3",
                      r.target_group, r.handler, r.kind, r.valid, r.invalid_reason);
    }
  });
  return stored;
}

void Registry::apply_runner_health(const std::string& handler_id, const isolation::RunnerHealth& health) {
  std::shared_ptr<isolation::IsolatedClient> isolated;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(handler_id);
    if (it == handlers_.end() || !it->second.isolated) return;  // deleted meanwhile
    isolated = it->second.isolated;
  }
  const auto now = isolated->health();  // not under our lock: the supervisor has its own
  bool record = false;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(handler_id);
    if (it == handlers_.end() || it->second.isolated != isolated) return;
    auto& h = it->second;
    if (!health.healthy) {
      // A death already followed by a restart (reports from two threads may arrive out of order): stale.
      const bool recovered = now.healthy && now.restarts > health.restarts;
      if (!recovered && health.state != isolation::RunnerState::stopped) {
        h.runner_down = true;
        record = true;
      }
    } else if (h.runner_down) {
      // Running again after a death: routable again at once. The provider's own verdict comes with the next
      // scheduled check; a handler that was never checked stays 'unknown' (no runner_down before a death).
      h.runner_down = false;
      record = true;
    }
  }
  if (!record) return;
  if (auto recorded = record_health(handler_id, health.healthy, health.reason); !recorded) {
    spdlog::warn("could not record the runner health of handler {}: {}", handler_id, recorded.error().message);
  }
}

void Registry::drain_runner_events() { runner_events_->drain(); }

void Registry::publish_locked() {
  std::vector<routing::Route> table_routes;
  table_routes.reserve(routes_.size());
  for (const auto& r : routes_) table_routes.push_back({r.target_group, r.handler, r.kind, r.priority, r.valid});
  auto table = routing::RoutingTable::build(table_routes);
  if (!table) {
    // Routes are validated on the way in; keep serving from the previous snapshot if this ever happens.
    spdlog::error("routing table rebuild refused: {}", table.error().describe());
    return;
  }
  auto health = std::make_shared<routing::HealthBitset>(*table);
  for (const auto& [id, h] : handlers_) health->set(id, is_routable(h.info.health));
  routing_ = grants::RoutingView{std::make_shared<const routing::RoutingTable>(std::move(*table)), std::move(health)};
  publisher_->publish(routing_);  // only posts: subscribers run on the publisher's thread
}

RoutingPublisher::Subscription Registry::subscribe(RoutingPublisher::Callback callback) {
  return publisher_->subscribe(std::move(callback));
}

std::optional<grants::TargetGroupView> Registry::target_group(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return std::nullopt;
  return grants::TargetGroupView{it->second.id, it->second.kind.kind, it->second.kind_schema, it->second.max_duration};
}

grants::RoutingView Registry::routing() const {
  std::lock_guard lock(mutex_);
  return routing_;
}

std::shared_ptr<ProviderClient> Registry::client(std::string_view handler_id) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(handler_id);
  return it == handlers_.end() ? nullptr : it->second.runtime.client;
}

bool Registry::handler_exists(std::string_view handler_id) const {
  std::lock_guard lock(mutex_);
  return handlers_.count(handler_id) > 0;
}

bool Registry::handler_healthy(std::string_view handler_id) const {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(handler_id);
  return it != handlers_.end() && is_routable(it->second.info.health);
}

std::vector<grants::RouteState> Registry::route_states(std::string_view target_group) const {
  std::lock_guard lock(mutex_);
  std::vector<grants::RouteState> out;
  for (const auto& r : routes_) {
    if (r.target_group != target_group) continue;
    grants::RouteState s;
    s.handler = r.handler;
    s.kind = r.kind;
    s.priority = r.priority;
    s.valid = r.valid;
    s.invalid_reason = r.invalid_reason;
    if (auto it = handlers_.find(r.handler); it != handlers_.end()) {
      s.healthy = is_routable(it->second.info.health);
      s.health_status = health_status_name(it->second.info.health);
      s.health_reason = it->second.info.health_reason;
      s.unhealthy_since = it->second.unhealthy_since;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<grants::HandlerIdentity> Registry::handler_identities() const {
  std::lock_guard lock(mutex_);
  std::vector<grants::HandlerIdentity> out;
  out.reserve(handlers_.size());
  for (const auto& [id, h] : handlers_)
    out.push_back(grants::HandlerIdentity{id, h.info.provider.publisher + "/" + h.info.provider.name,
                                          h.info.backend, h.info.health == HealthStatus::healthy,
                                          h.info.incarnation});
  return out;
}

void Registry::report_handler_failure(std::string_view handler_id, const Error& error) {
  // Stop routing to a handler the rule says is failing now, rather than at its next scheduled check; the health
  // monitor's next successful check brings it back.
  std::optional<std::string> reason;
  {
    std::lock_guard lock(failures_mutex_);
    reason = failures_.on_failure(handler_id, error);
  }
  if (reason) (void)record_health(handler_id, false, *reason);
}

void Registry::report_handler_success(std::string_view handler_id) {
  std::lock_guard lock(failures_mutex_);
  failures_.on_success(handler_id);
}

}  // namespace gatehouse::host::registry
