// Shared by the isolation tests: where the runner and fixtures are, options with short timeouts, and small
// helpers to wait for a supervised runner to change state.
#pragma once

#include "isolation/isolated_module.hpp"
#include "isolation/provider_scan.hpp"
#include "isolation/runner_location.hpp"
#include "isolation/wire.hpp"
#include "loader/dll_loader.hpp"
#include "loader/provider_calls.hpp"
#include "paths.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace isolation_test {

using namespace gatehouse::host;
using namespace gatehouse::host::isolation;
using namespace std::chrono_literals;
using gatehouse::test::demo_provider_path;
using gatehouse::test::fixture_path;
using gatehouse::test::TempDir;

inline std::string runner_path() { return GATEHOUSE_RUNNER_PATH; }
inline std::string hello_provider_path() { return GATEHOUSE_HELLO_PATH; }

// Short timeouts and backoffs keep the suite fast; a test that needs another policy changes one field.
inline IsolationOptions fast_options() {
  IsolationOptions o;
  o.runner_path = runner_path();
  o.start_timeout = 5s;
  o.call_timeout = 5s;
  o.shutdown_grace = 1s;
  o.initial_backoff = 20ms;
  o.max_backoff = 200ms;
  o.max_restarts = 5;
  o.restart_window = 60s;
  o.runner_threads = 4;
  return o;
}

// A grant of the misbehaving fixtures' kind (tests/isolation/misbehaving_provider.hpp): name "boom" misbehaves.
inline pb::GrantRequest thing_grant(const std::string& id, const std::string& name) {
  pb::GrantRequest r;
  r.set_grant_id(id);
  r.set_subject("alice@example.com");
  r.mutable_target()->set_kind("Thing");
  (*r.mutable_target()->mutable_properties())["name"] = name;
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return r;
}

inline pb::GrantRequest project_grant(const std::string& id, const std::string& project = "apollo") {
  pb::GrantRequest r;
  r.set_grant_id(id);
  r.set_subject("alice@example.com");
  r.mutable_target()->set_kind("ProjectRole");
  (*r.mutable_target()->mutable_properties())["project"] = project;
  (*r.mutable_target()->mutable_properties())["role"] = "viewer";
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return r;
}

inline nlohmann::json demo_config(const TempDir& state, int page_size = 500) {
  return {{"state_dir", state.path()}, {"token", "demo-token-123"}, {"page_size", page_size}};
}

// Polls `condition` until it holds or `limit` passes. The limit is a deadline for a stuck test on a loaded
// machine, never a bound on how fast something must happen: pass a shorter one only to wait for something that
// may rightly never come.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// True while `pid` names a live process (zombies waiting for a parent that does not reap them count as gone).
inline bool process_exists(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

inline IsolatedClient& isolated(ProviderClient& client) { return dynamic_cast<IsolatedClient&>(client); }

// Records what IsolationOptions::on_health reports.
class HealthLog {
 public:
  HealthCallback callback() {
    return [this](const std::string& handler, const RunnerHealth& health) {
      std::lock_guard lock(mutex_);
      seen_.push_back({handler, health});
    };
  }
  // True when some report for `handler` was unhealthy with `text` in its reason.
  bool saw_unhealthy(const std::string& handler, const std::string& text) const {
    std::lock_guard lock(mutex_);
    for (const auto& [h, health] : seen_) {
      if (h == handler && !health.healthy && health.reason.find(text) != std::string::npos) return true;
    }
    return false;
  }
  bool saw_healthy_after_restart(const std::string& handler) const {
    std::lock_guard lock(mutex_);
    for (const auto& [h, health] : seen_) {
      if (h == handler && health.healthy && health.restarts > 0) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, RunnerHealth>> seen_;
};

}  // namespace isolation_test
