// One health check of one handler: Describe (is it still the provider we configured?), config validation
// (does the stored config still pass its schema, do its secret references still resolve?), then the
// provider's own health call — each provider call bounded by a timeout.
#pragma once

#include "loader/provider_caller.hpp"
#include "registry/registry.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace gatehouse::host::health {

struct HealthOutcome {
  bool healthy = false;
  std::string reason;  // a sentence for operators: why not healthy, or the provider's summary
  // healthy but degraded: the provider named targets it cannot grant (CheckHealthResponse.degraded).
  bool degraded = false;
  std::vector<registry::UnavailableTarget> unavailable{};
};

// Each provider call through `caller` with a deadline `timeout` from its start. Stateless; may run on any
// thread, several at once (for one handler too).
HealthOutcome check_handler(const registry::HandlerRuntime& handler, const registry::ProviderRef& configured,
                            std::chrono::milliseconds timeout, ProviderCaller& caller);

}  // namespace gatehouse::host::health
