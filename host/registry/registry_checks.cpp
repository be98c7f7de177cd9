// What the registry checks before it stores a handler or a target group, in one place, so that the real calls
// (create_handler, update_handler, create_target_group) and the checks without effect that `gatehouse apply`
// runs for its plan (check_handler, check_target_group — a dry run and the real run alike) cannot drift apart:
// a dry run refuses exactly what the real run refuses.
#include "registry/registry.hpp"

namespace gatehouse::host::registry {

using nlohmann::json;

// The spec (id, provider loaded, config against its schema, secrets as references), then an instance built
// from the config with its references resolved here, as the daemon resolves them — the provider's constructor
// is where a provider checks what its schema cannot say (the demo provider's token length, for one).
Result<Registry::Handler> Registry::prepare_handler(const HandlerSpec& spec, const std::string& health_reason) {
  json config;
  auto ref = check_handler_spec(spec, config);
  if (!ref) return ref.take_error();
  Handler h;
  h.info = HandlerInfo{spec.id, *ref, config, HealthStatus::unknown, health_reason, std::nullopt, spec.isolation};
  instantiate_locked(h);  // touches only h
  if (!h.runtime.client) {
    // A config the provider refused or whose secrets do not resolve is the operator's to fix (4xx, located
    // under /config); anything else (no runner) stays create_failed.
    Error e = h.instance_error.value_or(make_error(ErrorCode::create_failed, h.runtime.instance_problem));
    if (e.code == ErrorCode::secret_unresolved || e.code == ErrorCode::config_invalid)
      return make_error(e.code, "handler '" + spec.id + "': " + e.message, std::move(e.diagnostics));
    return make_error(ErrorCode::create_failed, "handler '" + spec.id + "': " + e.describe());
  }
  return h;
}

Result<void> Registry::check_handler(const HandlerSpec& spec) {
  // The instance (and an isolated handler's runner) is destroyed on return: nothing is kept or stored.
  auto prepared = prepare_handler(spec, "checked only");
  if (!prepared) return prepared.take_error();
  return {};
}

Result<json> Registry::check_target_group(const TargetGroupSpec& spec) const {
  if (auto ok = check_object_id(spec.id, "id"); !ok) return ok.take_error();
  auto kind = parse_kind_ref(spec.kind);
  if (!kind) return kind.take_error();
  if (spec.max_duration.count() <= 0 || spec.max_duration > std::chrono::hours(24 * 366)) {
    return make_error(ErrorCode::invalid_argument, "max_duration must be between 1 second and 366 days",
                      {{"/max_duration", "out of range"}});
  }
  auto module = catalog_->find(kind->provider);
  if (!module) return make_error(ErrorCode::not_found, "provider " + kind->provider.text() + " is not loaded", {{"/kind", "provider not loaded"}});
  return kind_schema_of(*module, kind->kind);
}

}  // namespace gatehouse::host::registry
