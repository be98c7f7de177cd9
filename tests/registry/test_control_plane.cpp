// The control plane assembled as the daemon will: the registry (handlers, groups, routes in PostgreSQL),
// health checks and the grant engine, driving the real demo provider end to end.
#include "registry_fixture.hpp"

#include "grants/grant_engine.hpp"
#include "health/health_monitor.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

using namespace gatehouse::host;
using gatehouse::test::RegistryFixture;

namespace {

// Runs due work until the grant reaches `status` (or gives up after 60 s: a deadline for a stuck test).
grants::GrantRecord settle(grants::GrantEngine& engine, const std::string& id, grants::GrantStatus status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    REQUIRE(engine.run_once().ok());
    auto grant = engine.get(id);
    REQUIRE(grant.ok());
    if (grant->status == status) return *grant;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("grant " << id << " never became " << grants::to_string(status));
  return {};
}

}  // namespace

TEST_CASE("a grant travels registry, router, demo provider and back, durably", "[control-plane]") {
  RegistryFixture f("control_plane_e2e");
  f.demo_handler("demo-a");
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  REQUIRE(f.registry->create_route({"projects", "demo-a", "", 100}).ok());
  health::HealthMonitor monitor(*f.registry, {});
  grants::GrantEngineOptions options;
  options.engine_id = "e2e";
  options.workers = 1;
  grants::GrantEngine engine(f.db, *f.registry, options);

  auto requested = engine.request(
      {"alice@example.com", "projects", {{"project", "apollo"}, {"role", "viewer"}}, std::nullopt, std::chrono::minutes(5), "test"});
  REQUIRE(requested.ok());
  CHECK(requested->status == grants::GrantStatus::pending);

  SECTION("no healthy handler yet: the grant waits, then activates once the handler is checked") {
    REQUIRE(engine.run_once().ok());
    CHECK(engine.get(requested->id)->status == grants::GrantStatus::pending);
    REQUIRE(monitor.check_now("demo-a")->healthy);
    REQUIRE(engine.routing_changed().ok());
    auto active = settle(engine, requested->id, grants::GrantStatus::active);
    CHECK(active.handler_id == "demo-a");
    REQUIRE(active.activated_at.has_value());
    CHECK(*active.ends_at == *active.activated_at + std::chrono::minutes(5));
    const std::string record = f.state.path() + "/grants/" + requested->id + ".json";
    CHECK(std::filesystem::exists(record));

    auto revoked = engine.revoke(requested->id, "test", "done early");
    REQUIRE(revoked.ok());
    settle(engine, requested->id, grants::GrantStatus::revoked);
    CHECK_FALSE(std::filesystem::exists(record));
    auto history = engine.history(requested->id);
    REQUIRE(history.ok());
    CHECK(history->front().to == grants::GrantStatus::pending);
    CHECK(history->back().to == grants::GrantStatus::revoked);
  }
  SECTION("a target the group's schema does not allow is refused with its path") {
    auto bad = engine.request({"bob@example.com", "projects", {{"project", "apollo"}, {"role", "owner"}}, std::nullopt,
                               std::chrono::minutes(5), "test"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == "invalid_argument");
    REQUIRE_FALSE(bad.error().diagnostics.empty());
    CHECK(bad.error().diagnostics.front().path == "/target/role");
    auto too_long = engine.request({"bob@example.com", "projects", {{"project", "apollo"}, {"role", "viewer"}},
                                    std::nullopt, std::chrono::hours(2), "test"});
    REQUIRE_FALSE(too_long.ok());
    CHECK(too_long.error().diagnostics.front().path == "/duration");
  }
}
