#include "health/health_check.hpp"

#include "loader/provider_caller.hpp"
#include "loader/provider_calls.hpp"
#include "registry/config_refusal.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"

namespace gatehouse::host::health {

HealthOutcome check_handler(const registry::HandlerRuntime& handler, const registry::ProviderRef& configured,
                            std::chrono::milliseconds timeout, ProviderCaller& caller) {
  if (!handler.module || !handler.client) return {false, handler.instance_problem};
  auto client = handler.client;

  // 1. Describe through the instance: the library answering must still be the configured provider.
  pb::Request describe;
  describe.mutable_describe();
  auto described = caller.call<pb::Response>(
      handler.id, client,
      [describe](ProviderClient& c, CallDeadline deadline) { return invoke(c, describe, deadline, "provider"); },
      deadline_in(timeout), "Describe");
  if (!described) {
    if (described.error().code == ErrorCode::deadline_exceeded) return {false, described.error().message};
    return {false, "Describe failed: " + described.error().message};
  }
  const auto& d = described->describe();
  if (d.publisher() != configured.publisher || d.name() != configured.name || d.version() != configured.version) {
    return {false, "provider now describes itself as " + d.publisher() + "/" + d.name() + "@" + d.version() +
                       ", not the configured " + configured.text()};
  }

  // 2. The stored config against the schema, and its secret references (an env var may have gone).
  // Reasons name fields as every handler fault does, under /config (registry/config_refusal.hpp).
  if (auto valid = validate_config(handler.module->schema(), handler.config); !valid) {
    return {false, registry::config_refusal(valid.take_error()).describe()};
  }
  if (auto resolved = resolve_secrets(handler.module->schema(), handler.config); !resolved) {
    return {false, registry::config_refusal(resolved.take_error()).describe()};
  }

  // 3. The provider's own verdict.
  auto health = caller.call<pb::CheckHealthResponse>(
      handler.id, client,
      [](ProviderClient& c, CallDeadline deadline) { return check_health(c, deadline, "provider"); },
      deadline_in(timeout), "health check");
  if (!health) {
    if (health.error().code == ErrorCode::deadline_exceeded) return {false, health.error().message};
    return {false, "health check failed with " + std::string(health.error().code_name()) + ": " + health.error().message};
  }
  HealthOutcome outcome{health->healthy(),
                        health->message().empty() ? (health->healthy() ? "ok" : "unhealthy") : health->message()};
  outcome.degraded = outcome.healthy && health->degraded();
  if (outcome.degraded) {
    for (const auto& u : health->unavailable_targets()) {
      outcome.unavailable.push_back(registry::UnavailableTarget{
          u.target().kind(), {u.target().properties().begin(), u.target().properties().end()}, u.reason()});
    }
  }
  return outcome;
}

}  // namespace gatehouse::host::health
