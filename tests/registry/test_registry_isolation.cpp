// A handler with `isolation: process`: its demo provider runs in a supervised gatehouse-provider-runner, the
// choice is stored in PostgreSQL, the health monitor checks it, the grant engine grants through it, and killing
// its runner marks it unhealthy at once and healthy again after the restart — the host (this test) keeps going.
#include "registry_fixture.hpp"

#include "grants/grant_engine.hpp"
#include "health/health_monitor.hpp"
#include "isolation/isolated_module.hpp"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

using namespace gatehouse::host;
using namespace std::chrono_literals;
using gatehouse::test::RegistryFixture;

namespace {

registry::RegistryOptions isolated_options() {
  registry::RegistryOptions o;
  o.isolation.runner_path = GATEHOUSE_RUNNER_PATH;
  o.isolation.start_timeout = 5s;
  o.isolation.shutdown_grace = 1s;
  // Long enough to see the handler unhealthy between the death and the restart; short enough for a quick test.
  o.isolation.initial_backoff = 600ms;
  o.isolation.max_backoff = 600ms;
  o.isolation.runner_threads = 2;
  return o;
}

// The limit is a deadline for a stuck test on a loaded machine, not a bound on how fast something happens.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

// Runs due work until the grant reaches `status` (or gives up after 60 s: a deadline for a stuck test).
grants::GrantRecord settle(grants::GrantEngine& engine, const std::string& id, grants::GrantStatus status) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    REQUIRE(engine.run_once().ok());
    auto grant = engine.get(id);
    REQUIRE(grant.ok());
    if (grant->status == status) return *grant;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("grant " << id << " never became " << grants::to_string(status));
  return {};
}

pid_t runner_pid(registry::Registry& r, const std::string& id) {
  auto runtime = r.runtime(id);
  REQUIRE(runtime.has_value());
  auto* client = dynamic_cast<isolation::IsolatedClient*>(runtime->client.get());
  REQUIRE(client != nullptr);
  return client->health().pid;
}

std::string stored_isolation(gatehouse::host::store::Database& db, const std::string& id) {
  auto row = db.with_transaction([&](pqxx::work& txn) {
    return txn.exec_params("SELECT isolation FROM handlers WHERE id = $1", id)[0][0].as<std::string>();
  });
  REQUIRE(row.ok());
  return *row;
}

bool routable(registry::Registry& r) {
  auto view = r.routing();
  return view.table->best("projects", *view.health).has_value();
}

}  // namespace

TEST_CASE("isolation names round-trip and nothing else parses", "[registry][isolation]") {
  CHECK(std::string(registry::isolation_name(registry::Isolation::in_process)) == "in_process");
  CHECK(std::string(registry::isolation_name(registry::Isolation::process)) == "process");
  CHECK(registry::parse_isolation("process") == registry::Isolation::process);
  CHECK(registry::parse_isolation("in_process") == registry::Isolation::in_process);
  CHECK_FALSE(registry::parse_isolation("Process").has_value());
  CHECK_FALSE(registry::parse_isolation("").has_value());
  // The default runner call timeout stays below the grant engine's, so a hung runner is killed before the engine
  // abandons the call.
  CHECK(registry::RegistryOptions{}.isolation.call_timeout == registry::kDefaultRunnerCallTimeout);
  CHECK(registry::kDefaultRunnerCallTimeout < grants::GrantEngineOptions{}.call_timeout);
}

TEST_CASE("handlers run in process by default, and the column refuses unknown modes", "[registry][isolation]") {
  RegistryFixture f("registry_isolation_default");
  auto h = f.demo_handler("demo-in");
  CHECK(h.isolation == registry::Isolation::in_process);
  CHECK(stored_isolation(f.db, "demo-in") == "in_process");
  CHECK(dynamic_cast<isolation::IsolatedClient*>(f.registry->runtime("demo-in")->client.get()) == nullptr);
  auto bad = f.db.with_transaction(
      [](pqxx::work& txn) { txn.exec("UPDATE handlers SET isolation = 'container' WHERE id = 'demo-in'"); });
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("check constraint"));
}

TEST_CASE("a handler with isolation: process is persisted, checked, grants, and survives its runner's death",
          "[registry][isolation][control-plane]") {
  RegistryFixture f("registry_isolation_process", isolated_options());
  auto created = f.demo_handler("demo-p", registry::Isolation::process);
  CHECK(created.isolation == registry::Isolation::process);
  CHECK(stored_isolation(f.db, "demo-p") == "process");
  const pid_t first = runner_pid(*f.registry, "demo-p");
  REQUIRE(first > 0);
  CHECK(first != ::getpid());

  // Reopened (a restarted gatehoused): still isolated, in a runner of its own.
  f.reopen();
  REQUIRE(f.registry->handler("demo-p").has_value());
  CHECK(f.registry->handler("demo-p")->isolation == registry::Isolation::process);
  CHECK(f.registry->handlers().front().isolation == registry::Isolation::process);
  const pid_t runner = runner_pid(*f.registry, "demo-p");
  REQUIRE(runner > 0);
  CHECK(runner != first);

  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  REQUIRE(f.registry->create_route({"projects", "demo-p", "", 100}).ok());
  health::HealthMonitor monitor(*f.registry, {});
  auto checked = monitor.check_now("demo-p");
  REQUIRE(checked.ok());
  CHECK(checked->healthy);
  CHECK(f.registry->handler("demo-p")->health == registry::HealthStatus::healthy);
  CHECK(routable(*f.registry));

  grants::GrantEngineOptions engine_options;
  engine_options.engine_id = "iso";
  engine_options.workers = 1;
  grants::GrantEngine engine(f.db, *f.registry, engine_options);
  auto requested = engine.request(
      {"alice@example.com", "projects", {{"project", "apollo"}, {"role", "viewer"}}, std::nullopt, 5min, "test"});
  REQUIRE(requested.ok());
  auto active = settle(engine, requested->id, grants::GrantStatus::active);
  CHECK(active.handler_id == "demo-p");
  // The runner wrote the grant record: the provider ran there, not here.
  const std::string record = f.state.path() + "/grants/" + requested->id + ".json";
  CHECK(std::filesystem::exists(record));

  pid_t victim = runner;
  for (int signal : {SIGKILL, SIGSEGV}) {
    INFO("signal " << signal);
    REQUIRE(::kill(victim, signal) == 0);
    // Unhealthy at once (during the 600 ms backoff, as the sentence below says), and unroutable.
    REQUIRE(eventually([&] { return f.registry->handler("demo-p")->health == registry::HealthStatus::unhealthy; }));
    const auto sick = *f.registry->handler("demo-p");
    CHECK_THAT(sick.health_reason, Catch::Contains("provider runner for gatehouse/demo@1.0.0 handler 'demo-p' (pid " +
                                                   std::to_string(victim) + ") died with signal " +
                                                   std::to_string(signal)) &&
                                       Catch::Contains("restarting it in 600 ms"));
    CHECK_FALSE(routable(*f.registry));
    // A health check while the runner is away cannot bring it back.
    auto during = monitor.check_now("demo-p");
    REQUIRE(during.ok());
    CHECK_FALSE(during->healthy);

    // Healthy again once the runner is back, without waiting for a scheduled check.
    REQUIRE(eventually([&] { return f.registry->handler("demo-p")->health == registry::HealthStatus::healthy; }));
    CHECK_THAT(f.registry->handler("demo-p")->health_reason, Catch::StartsWith("runner restarted (pid "));
    CHECK(routable(*f.registry));
    const pid_t next = runner_pid(*f.registry, "demo-p");
    CHECK(next != victim);
    victim = next;
    f.registry->drain_runner_events();  // the report is persisted after it is visible in memory
    auto stored = f.db.with_transaction([](pqxx::work& txn) {
      return txn.exec("SELECT health_status FROM handlers WHERE id = 'demo-p'")[0][0].as<std::string>();
    });
    REQUIRE(stored.ok());
    CHECK(*stored == "healthy");
  }

  // The restarted runner serves the revoke of the grant the first one made.
  REQUIRE(engine.revoke(requested->id, "test", "done").ok());
  settle(engine, requested->id, grants::GrantStatus::revoked);
  CHECK_FALSE(std::filesystem::exists(record));

  // Deleting the handler stops its runner.
  REQUIRE(f.registry->delete_handler("demo-p").ok());
  CHECK(eventually([&] { return ::kill(victim, 0) != 0; }));
}

TEST_CASE("an isolated handler whose runner cannot be found is refused with where it looked", "[registry][isolation]") {
  auto options = isolated_options();
  options.isolation.runner_path = "/nonexistent/gatehouse-provider-runner";
  RegistryFixture f("registry_isolation_no_runner", options);
  setenv("GATEHOUSE_TEST_DEMO_TOKEN", "demo-token-abcdef", 1);
  auto created = f.registry->create_handler({"demo-x", "gatehouse/demo@1.0.0",
                                             {{"state_dir", f.state.path()}, {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"}},
                                             registry::Isolation::process});
  REQUIRE_FALSE(created.ok());
  CHECK(created.error().code == "create_failed");
  CHECK_THAT(created.error().message,
             Catch::StartsWith("handler 'demo-x': ") && Catch::Contains("/nonexistent/gatehouse-provider-runner"));
  CHECK_FALSE(f.registry->handler("demo-x").has_value());
}
