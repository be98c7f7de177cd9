// Checks every handler on a Boost.Asio timer of its own (every 30 s by default) and records the outcome in
// the registry, which publishes a new routing snapshot when a handler's health changes. New handlers are
// picked up within one reconcile tick and checked at once; deleted ones stop being checked. Each check first
// resolves the handler's secret references again (Registry::refresh_secrets): a rotated secret re-creates the
// instance before it is checked.
//
// Threads: start/stop from one owner thread; check_now from any thread (API handlers call it).
#pragma once

#include "health/health_check.hpp"
#include "registry/registry.hpp"

#include <chrono>
#include <memory>

namespace gatehouse::host::health {

struct HealthOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};    // per provider call
  std::chrono::milliseconds reconcile{std::chrono::seconds(1)};  // how soon new handlers are noticed
  // Makes the provider calls (shared with inventory syncs in the daemon); null: the monitor makes its own.
  // Kept alive by the monitor until its checks have stopped.
  std::shared_ptr<ProviderCaller> caller{};
};

class HealthMonitor {
 public:
  HealthMonitor(registry::Registry& registry, HealthOptions options);
  ~HealthMonitor();  // stops
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void start();
  void stop();

  // Checks one handler now, on the caller's thread, and records the outcome.
  Result<HealthOutcome> check_now(std::string_view handler_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::host::health
