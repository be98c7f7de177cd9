#include "health/health_check.hpp"

#include "loader/provider_calls.hpp"
#include "registry/config_refusal.hpp"
#include "schema/config_validation.hpp"
#include "schema/secrets.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace gatehouse::host::health {
namespace {

// Runs fn on its own thread and waits at most `timeout`. An in-process provider call cannot be interrupted:
// a hung call keeps its thread (which owns what it needs through shared_ptrs) and the check reports the hang.
template <class T, class Fn>
std::optional<T> call_with_timeout(Fn fn, std::chrono::milliseconds timeout) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<T> value;
  };
  auto shared = std::make_shared<Shared>();
  std::thread([shared, fn = std::move(fn)]() mutable {
    T value = fn();
    std::lock_guard lock(shared->mutex);
    shared->value.emplace(std::move(value));
    shared->done.notify_all();
  }).detach();
  std::unique_lock lock(shared->mutex);
  if (!shared->done.wait_for(lock, timeout, [&] { return shared->value.has_value(); })) return std::nullopt;
  return std::move(shared->value);
}

std::string seconds_text(std::chrono::milliseconds d) {
  return std::to_string(d.count() / 1000) + "." + std::to_string((d.count() % 1000) / 100) + " s";
}

}  // namespace

HealthOutcome check_handler(const registry::HandlerRuntime& handler, const registry::ProviderRef& configured,
                            std::chrono::milliseconds timeout) {
  if (!handler.module || !handler.client) return {false, handler.instance_problem};
  auto client = handler.client;

  // 1. Describe through the instance: the library answering must still be the configured provider.
  pb::Request describe;
  describe.mutable_describe();
  auto described = call_with_timeout<Result<pb::Response>>(
      [client, describe] { return invoke(*client, describe, "provider"); }, timeout);
  if (!described) return {false, "Describe did not answer within " + seconds_text(timeout)};
  if (!*described) return {false, "Describe failed: " + described->error().message};
  const auto& d = (*described)->describe();
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
  auto health = call_with_timeout<Result<pb::CheckHealthResponse>>(
      [client] { return check_health(*client, "provider"); }, timeout);
  if (!health) return {false, "health check did not answer within " + seconds_text(timeout)};
  if (!*health) return {false, "health check failed with " + std::string(health->error().code_name()) + ": " + health->error().message};
  HealthOutcome outcome{(*health)->healthy(),
                        (*health)->message().empty() ? ((*health)->healthy() ? "ok" : "unhealthy") : (*health)->message()};
  outcome.degraded = outcome.healthy && (*health)->degraded();
  if (outcome.degraded) {
    for (const auto& u : (*health)->unavailable_targets()) {
      outcome.unavailable.push_back(registry::UnavailableTarget{
          u.target().kind(), {u.target().properties().begin(), u.target().properties().end()}, u.reason()});
    }
  }
  return outcome;
}

}  // namespace gatehouse::host::health
