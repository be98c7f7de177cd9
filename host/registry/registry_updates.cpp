// Changes to existing handlers and target groups (what `gatehouse apply` needs besides create and delete).
#include "registry/registry.hpp"

#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gatehouse::host::registry {

using nlohmann::json;

Result<void> check_backend_name(std::string_view backend, const std::string& path) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '/' || c == '@' || c == '-';
  };
  const bool ok = !backend.empty() && backend.size() <= 200 && allowed(backend[0]) && backend[0] != '.' &&
                  backend[0] != '_' && backend[0] != ':' && backend[0] != '/' && backend[0] != '@' &&
                  backend[0] != '-' && std::all_of(backend.begin(), backend.end(), allowed);
  if (ok) return {};
  return make_error(ErrorCode::invalid_argument,
                    "backend must be 1-200 characters from letters, digits and . _ : / @ -, starting with a letter or "
                    "digit (e.g. prod-db-1 or db.example.com:5432)",
                    {{path, "not a backend name"}});
}

Result<ProviderRef> Registry::check_handler_spec(const HandlerSpec& spec, json& config) const {
  if (auto ok = check_object_id(spec.id, "id"); !ok) return ok.take_error();
  if (spec.backend && !spec.backend->empty())
    if (auto ok = check_backend_name(*spec.backend, "/backend"); !ok) return ok.take_error();
  auto ref = parse_provider_ref(spec.provider);
  if (!ref) return ref.take_error();
  auto module = catalog_->find(*ref);
  if (!module) return make_error(ErrorCode::not_found, "provider " + ref->text() + " is not loaded", {{"/provider", "not loaded"}});
  config = spec.config.is_null() ? json::object() : spec.config;
  if (auto valid = validate_config(module->schema(), config); !valid) {
    Error e = valid.take_error();
    for (auto& d : e.diagnostics) d.path = "/config" + d.path;
    e.message = "handler '" + spec.id + "': " + e.message;
    return e;
  }
  if (auto literal = literal_secret_fields(module->schema(), config); !literal.empty()) {
    std::vector<Diagnostic> diagnostics;
    for (const auto& f : literal) diagnostics.push_back({"/config/" + f, "secret given in clear; use env:NAME or file:PATH"});
    return make_error(ErrorCode::invalid_argument,
                      "handler '" + spec.id + "': secret fields must be references (env:NAME or file:PATH) so the "
                      "secret never reaches the database",
                      std::move(diagnostics));
  }
  return ref;
}

Result<void> Registry::persist_route_validity(const RouteInfo& r) {
  return db_.with_transaction([&](pqxx::work& txn) {
    txn.exec_params("UPDATE routes SET valid = $4, invalid_reason = NULLIF($5, ''), updated_at = now() "
                    "WHERE target_group_id = $1 AND handler_id = $2 AND kind = $3",
                    r.target_group, r.handler, r.kind, r.valid, r.invalid_reason);
  });
}

Result<HandlerInfo> Registry::update_handler(const HandlerSpec& spec, const store::BeforeCommit& before_commit) {
  std::string backend;  // what the handler declares after the update (HandlerSpec::backend: nullopt keeps it)
  std::string incarnation;  // kept: an update is the same handler (its grants' revokes stay its own)
  std::lock_guard writing(model_write_mutex_);
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(spec.id);
    if (it == handlers_.end()) return make_error(ErrorCode::not_found, "handler '" + spec.id + "' does not exist");
    backend = spec.backend.value_or(it->second.info.backend);
    incarnation = it->second.info.incarnation;
  }
  // The new instance is built before anything changes: a config the provider refuses leaves the old one serving.
  // The same checks as check_handler (registry_checks.cpp).
  auto prepared = prepare_handler(spec, "not checked since its update");
  if (!prepared) return prepared.take_error();
  Handler h = std::move(*prepared);
  h.info.backend = backend;
  h.info.incarnation = incarnation;
  const ProviderRef* ref = &h.info.provider;
  const json& config = h.info.config;
  auto updated = db_.with_transaction([&](pqxx::work& txn) {
    const auto rows =
        txn.exec_params("UPDATE handlers SET provider_publisher = $2, provider_name = $3, provider_version = $4, "
                        "config = $5::jsonb, isolation = $6, health_status = 'unknown', health_reason = $7, "
                        "health_checked_at = NULL, backend = NULLIF($8, ''), updated_at = now() WHERE id = $1 "
                        "RETURNING revision",
                        spec.id, ref->publisher, ref->name, ref->version, config.dump(),
                        std::string(isolation_name(spec.isolation)), h.info.health_reason, backend);
    if (rows.empty()) return false;
    h.revision = rows[0][0].as<std::int64_t>();
    if (before_commit) before_commit(txn);
    return true;
  });
  if (!updated) return updated.take_error();
  if (!*updated) return make_error(ErrorCode::not_found, "handler '" + spec.id + "' does not exist");

  HandlerInfo info = h.info;
  std::optional<Handler> previous;  // destroyed after the lock is released: stopping a runner takes a while
  std::vector<RouteInfo> reevaluated;
  {
    std::lock_guard lock(mutex_);
    auto it = handlers_.find(spec.id);
    if (it == handlers_.end()) return make_error(ErrorCode::not_found, "handler '" + spec.id + "' does not exist");
    previous.emplace(std::move(it->second));
    it->second = std::move(h);
    // Its provider (and so its kinds) may have changed: routes are re-evaluated now, not at the next check.
    for (auto& r : routes_) {
      if (r.handler != spec.id) continue;
      r = evaluate_locked(r);
      reevaluated.push_back(r);
    }
    publish_locked();
  }
  for (const auto& r : reevaluated)
    if (auto stored = persist_route_validity(r); !stored)
      spdlog::warn("storing the validity of route {} → {}: {}", r.target_group, r.handler, stored.error().message);
  return info;
}

Result<TargetGroupInfo> Registry::set_target_group_max_duration(std::string_view id, std::chrono::seconds max_duration,
                                                                 const store::BeforeCommit& before_commit) {
  if (max_duration.count() <= 0 || max_duration > std::chrono::hours(24 * 366))
    return make_error(ErrorCode::invalid_argument, "max_duration must be between 1 second and 366 days",
                      {{"/max_duration", "out of range"}});
  std::lock_guard writing(model_write_mutex_);
  {
    std::lock_guard lock(mutex_);  // unknown here (yet): refused before anything changes
    if (!groups_.count(id)) return make_error(ErrorCode::not_found, "target group '" + std::string(id) + "' does not exist");
  }
  auto updated = db_.with_transaction([&](pqxx::work& txn) -> std::optional<std::int64_t> {
    const auto rows = txn.exec_params("UPDATE target_groups SET max_duration_seconds = $2 WHERE id = $1 RETURNING revision",
                                      std::string(id), static_cast<long long>(max_duration.count()));
    if (rows.empty()) return std::nullopt;
    if (before_commit) before_commit(txn);
    return rows[0][0].as<std::int64_t>();
  });
  if (!updated) return updated.take_error();
  std::lock_guard lock(mutex_);
  auto it = groups_.find(id);
  if (!*updated || it == groups_.end())
    return make_error(ErrorCode::not_found, "target group '" + std::string(id) + "' does not exist");
  // Grants already requested keep their duration; the new maximum applies to new requests.
  it->second.max_duration = max_duration;
  group_revisions_[it->second.id] = **updated;
  return it->second;
}

}  // namespace gatehouse::host::registry
