// Isolation under the grant engine (tests/grants' test world: real PostgreSQL, scripted providers): when the
// runner of the best route dies or hangs in the middle of a Grant, the grant fails over to the next route,
// nothing comes back late, the handler whose outcome is unknown gets a compensating Revoke once its runner is
// back, and killing runners during a load of grants loses none of them and leaves none behind.
#include "grant_test_support.hpp"

#include "isolation/isolated_module.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;
namespace isolation = gatehouse::host::isolation;

namespace {

routing::Route route(const std::string& handler, int priority) { return routing::Route{kGroup, handler, "Thing", priority, true}; }

// Replaces handler `id`'s in-process client by the same scripted provider in a runner, its health wired to the
// control plane the way the registry would wire it.
isolation::IsolatedClient& isolate(World& world, const std::string& id, std::chrono::milliseconds call_timeout) {
  isolation::IsolationOptions options;
  options.runner_path = GATEHOUSE_RUNNER_PATH;
  options.call_timeout = call_timeout;  // below the engine's call timeout: the runner is killed, nothing returns late
  options.initial_backoff = 20ms;
  options.max_backoff = 200ms;
  options.max_restarts = 20;
  options.shutdown_grace = 1s;
  options.on_health = [&world](const std::string& handler, const isolation::RunnerHealth& health) {
    world.plane().set_healthy(handler, health.healthy);
  };
  auto module = isolation::load_provider_isolated(scripted_provider_path(), options);
  REQUIRE(module.ok());
  auto client = (*module)->create(nlohmann::json{{"state_dir", world.dir(id)}}, id);
  REQUIRE(client.ok());
  std::shared_ptr<gatehouse::host::ProviderClient> shared = std::move(*client);
  auto& isolated = dynamic_cast<isolation::IsolatedClient&>(*shared);
  world.plane().set_handler(id, std::move(shared), true);
  return isolated;
}

// True while `pid` names a live process (a zombie counts as gone).
bool process_exists(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

long long open_compensations(World& world) {
  return count(world.db(), "SELECT count(*) FROM grant_compensations WHERE done_at IS NULL");
}

// Runs the engine until the compensating Revokes it owes are sent (they wait for the handler to be healthy).
bool compensated(World& world, GrantEngine& engine, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        REQUIRE(engine.run_once().ok());
        return open_compensations(world) == 0;
      },
      timeout);
}

bool has_note(GrantEngine& engine, const std::string& id, const std::string& text) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  for (const auto& e : *h)
    if (e.is_note() && e.reason.find(text) != std::string::npos) return true;
  return false;
}

// The reason of the last status change (notes, such as what the provider said, are skipped).
std::string last_reason(GrantEngine& engine, const std::string& id) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  for (auto e = h->rbegin(); e != h->rend(); ++e)
    if (!e->is_note()) return e->reason;
  FAIL("grant " << id << " has no status change in its history");
  return {};
}

// Scripts h1's Grant to hang far longer than the test, requests a grant and runs the engine once: only the kill
// of h1's runner at the call's deadline ends that call, and the grant fails over to h2. Returns the grant's id
// and the pid of the runner that was killed.
std::pair<std::string, pid_t> grant_while_h1_hangs(World& world, GrantEngine& engine, isolation::IsolatedClient& h1) {
  world.script("h1", "grant_mode", "hang:120000");
  const pid_t runner = h1.health().pid;
  REQUIRE(runner > 0);
  auto g = engine.request(world.spec("alice@example.com", 600s));
  REQUIRE(g.ok());
  REQUIRE(engine.run_once().ok());
  auto now = engine.get(g->id);
  REQUIRE(now.ok());
  CHECK(now->status == GrantStatus::active);
  CHECK(now->handler_id == "h2");
  return {g->id, runner};
}

}  // namespace

TEST_CASE("a runner dying in the middle of a Grant fails over to the next route", "[isolation][failover]") {
  World world("isolation_failover_crash");
  world.add_handler("h1");
  world.add_handler("h2");
  // The Grant at h1 hangs until the test kills its runner: no deadline (runner's or engine's) comes first.
  auto& h1 = isolate(world, "h1", 60s);
  world.routes({route("h1", 100), route("h2", 50)});
  auto options = World::fast_options("e1");
  options.call_timeout = 90s;
  GrantEngine engine(world.db(), world.plane(), options);

  world.script("h1", "grant_mode", "hang:120000");
  const pid_t runner = h1.health().pid;
  REQUIRE(runner > 0);
  auto g = engine.request(world.spec("alice@example.com", 600s));
  REQUIRE(g.ok());
  bool in_grant = false;
  std::thread killer([&] {
    // Mid-call: the Grant reached the provider (its calls.log line), then the runner dies.
    in_grant = wait_until([&] { return world.calls_of("h1", "grant " + g->id) == 1; }, 60s);
    ::kill(runner, SIGSEGV);
  });
  REQUIRE(engine.run_once().ok());
  killer.join();
  REQUIRE(in_grant);

  auto now = engine.get(g->id);
  REQUIRE(now.ok());
  CHECK(now->status == GrantStatus::active);
  CHECK(now->handler_id == "h2");
  CHECK_THAT(last_reason(engine, g->id),
             Catch::Contains("granted by handler 'h2' (priority 50) after handler 'h1': transport_failed: provider "
                             "runner for gatehouse-tests/scripted@1.0.0 handler 'h1'") &&
                 Catch::Contains("died with signal 11 (Segmentation fault) during a call"));
  CHECK(world.grant_files("h1").empty());
  CHECK(world.grant_files("h2") == std::set<std::string>{g->id});
  // h1 comes back by itself, healthy, with its instance.
  CHECK(wait_until([&] { return h1.health().healthy && h1.health().pid != runner; }, 60s));
  CHECK(world.plane().handler_healthy("h1"));
  // The outcome at h1 was unknown: it gets a compensating Revoke with the grant's key (nothing to take back here).
  CHECK(compensated(world, engine, 60s));
  CHECK(world.calls_of("h1", "revoke " + g->id) == 1);
  CHECK(has_note(engine, g->id, "compensating Revoke on handler 'h1' after an unknown Grant outcome: succeeded"));
  CHECK(world.grant_files("h2") == std::set<std::string>{g->id});
}

TEST_CASE("a runner hanging in a Grant is killed at its deadline: failover, and nothing comes back late",
          "[isolation][failover]") {
  World world("isolation_failover_hang");
  world.add_handler("h1");
  world.add_handler("h2");
  auto& h1 = isolate(world, "h1", 200ms);
  world.routes({route("h1", 100), route("h2", 50)});
  // The runner's 200 ms deadline is what ends the call: the engine's own comes far later.
  auto options = World::fast_options("e1");
  options.call_timeout = 60s;
  GrantEngine engine(world.db(), world.plane(), options);

  const auto [id, runner] = grant_while_h1_hangs(world, engine, h1);
  CHECK_THAT(last_reason(engine, id),
             Catch::Contains("after handler 'h1': deadline_exceeded:") &&
                 Catch::Contains("did not answer a call within 200 ms; the runner was killed"));
  // The hung call died with its runner (gone: nothing of it can come back late), so no grant at h1. Its outcome
  // was unknown, so h1 is sent one compensating Revoke with the grant's key once its runner is back (the
  // provider had nothing to revoke).
  CHECK(wait_until([&] { return !process_exists(runner); }, 60s));
  CHECK(world.grant_files("h1").empty());
  CHECK(compensated(world, engine, 60s));
  CHECK(world.calls("h1") == std::vector<std::string>{"grant " + id, "revoke " + id});
  CHECK(has_note(engine, id,
                 "compensating Revoke on handler 'h1' after an unknown Grant outcome: succeeded (the provider said "
                 "it was already revoked)"));
  CHECK(world.grant_files("h2") == std::set<std::string>{id});
  CHECK(h1.health().pid != runner);
}

TEST_CASE("the engine's deadline is the runner's: a hung runner is killed at the call's deadline, not the cap",
          "[isolation][failover][deadline]") {
  World world("isolation_failover_deadline");
  world.add_handler("h1");
  world.add_handler("h2");
  auto& h1 = isolate(world, "h1", 600s);  // the isolation cap: far beyond the test
  world.routes({route("h1", 100), route("h2", 50)});
  auto options = World::fast_options("e1");
  options.call_timeout = 300ms;  // the deadline every call carries
  GrantEngine engine(world.db(), world.plane(), options);

  const auto [id, runner] = grant_while_h1_hangs(world, engine, h1);
  CHECK_THAT(last_reason(engine, id),
             Catch::Contains("after handler 'h1': deadline_exceeded:") && Catch::Contains("the runner was killed"));
  CHECK(wait_until([&] { return !process_exists(runner); }, 60s));

  // The provider in the runner was told the deadline (gatehouse::call_deadline()): at most 300 ms away.
  std::ifstream log(world.dir("h1") + "/deadlines.log");
  std::string call, left;
  REQUIRE(log >> call >> left);
  CHECK(call == "grant");
  REQUIRE(left != "none");
  CHECK(std::stoll(left) <= 300);
}

TEST_CASE("killing runners with SIGKILL and SIGSEGV during a load of grants loses none of them",
          "[isolation][failover][load]") {
  World world("isolation_failover_load");
  world.add_handler("h1");
  world.add_handler("h2");
  auto& h1 = isolate(world, "h1", 400ms);
  world.routes({route("h1", 100), route("h2", 50)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  constexpr int kGrants = 60;
  std::vector<std::string> ids;
  for (int i = 0; i < kGrants; ++i) {
    auto g = engine.request(world.spec("user-" + std::to_string(i) + "@example.com", 600s));
    REQUIRE(g.ok());
    ids.push_back(g->id);
  }
  auto active = [&] {
    return count(world.db(), "SELECT count(*) FROM grants WHERE status = 'active'");
  };
  engine.start();
  int kills = 0;
  pid_t killed = 0;
  for (int signal : {SIGKILL, SIGSEGV, SIGKILL, SIGSEGV}) {
    // A runner other than the one killed last, up and serving (pid 0 would signal our own process group).
    pid_t victim = 0;
    if (!wait_until([&] {
          const auto health = h1.health();
          victim = health.pid;
          return health.healthy && victim > 0 && victim != killed;
        }, 60s)) {
      break;
    }
    // Mid-load: this runner has taken a Grant since the last kill (or everything is active already).
    const auto calls_before = world.calls("h1").size();
    wait_until([&] { return world.calls("h1").size() > calls_before || active() >= kGrants; }, 60s);
    if (active() >= kGrants) break;
    if (::kill(victim, signal) == 0) ++kills;
    killed = victim;
  }
  REQUIRE(wait_until([&] { return active() == kGrants; }, 30s));
  // Compensating Revokes for the Grants whose outcome was unknown at h1 go out once its runner is back.
  CHECK(wait_until([&] { return open_compensations(world) == 0; }, 30s));
  engine.stop();
  CHECK(kills >= 1);
  CHECK(count(world.db(), "SELECT count(*) FROM grants WHERE status = 'failed'") == 0);

  // Each grant is held by the handler the engine recorded.
  std::vector<std::string> orphans;
  for (const auto& id : ids) {
    auto g = engine.get(id);
    REQUIRE(g.ok());
    INFO(id << " on " << g->handler_id);
    CHECK(world.grant_files(g->handler_id).count(id) == 1);
    const std::string other = g->handler_id == "h1" ? "h2" : "h1";
    if (world.grant_files(other).count(id) != 0) orphans.push_back(id);
  }
  // A runner that died after its provider granted but before the reply left: the engine failed over and sent
  // that handler a compensating Revoke (same key), so no access stays behind there.
  INFO(orphans.size() << " grants also left at the handler whose runner died mid-call");
  CHECK(orphans.empty());
}
