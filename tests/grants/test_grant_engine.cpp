// The grant engine against a real PostgreSQL and real provider libraries: validation, routing with failover,
// revoke pinning, overlapping grants, the clock, idempotent successes, revoke retries and secrets.
#include "grant_test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;

namespace {

routing::Route route(const std::string& handler, int priority, bool valid = true) {
  return routing::Route{kGroup, handler, "Thing", priority, valid};
}

grants::GrantRecord get(GrantEngine& engine, const std::string& id) {
  auto g = engine.get(id);
  REQUIRE(g.ok());
  return *g;
}

grants::GrantRecord request(GrantEngine& engine, const grants::GrantRequestSpec& spec) {
  auto g = engine.request(spec);
  if (!g.ok()) FAIL(g.error().describe());
  return *g;
}

bool has_note(GrantEngine& engine, const std::string& id, const std::string& text) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  for (const auto& e : *h)
    if (e.reason.find(text) != std::string::npos) return true;
  return false;
}

long long notes_containing(GrantEngine& engine, const std::string& id, const std::string& text) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  long long n = 0;
  for (const auto& e : *h) n += e.is_note() && e.reason.find(text) != std::string::npos;
  return n;
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

using Pairs = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("a request is validated against the target group before it is stored", "[grants]") {
  World world("grants_validate");
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  auto spec = world.spec("alice@example.com", 60s);
  spec.target = {{"name", "box"}, {"level", "medium"}, {"colour", "red"}};
  spec.duration = 7200s;
  auto refused = engine.request(spec);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid_argument");
  const auto& d = refused.error().diagnostics;
  REQUIRE(d.size() == 3);
  CHECK(d[0].path == "/target/colour");
  CHECK(d[0].reason == "is not a property of target kind Thing");
  CHECK(d[1].path == "/target/level");
  CHECK_THAT(d[1].reason, Catch::Contains("must be one of low, high (got 'medium')"));
  CHECK(d[2].path == "/duration");
  CHECK_THAT(d[2].reason, Catch::Contains("must be at most 1h for target group '") && Catch::Contains("(got "));

  spec = world.spec("", 0s);
  spec.target = {{"level", "low"}};
  refused = engine.request(spec);
  REQUIRE_FALSE(refused.ok());
  // The faults are diagnostics; the message counts them and does not repeat them (the CLI printed each twice).
  CHECK(refused.error().message == "the grant request is invalid (3 faults)");
  CHECK(refused.error().describe().find("/subject: must not be empty") != std::string::npos);
  CHECK(refused.error().describe().find("/target/name: is required") != std::string::npos);
  CHECK(refused.error().describe().find("/duration: must be at least 1s") != std::string::npos);

  spec = world.spec("alice@example.com", 60s);
  spec.target_group = "nope";
  refused = engine.request(spec);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "not_found");
  CHECK(refused.error().diagnostics.at(0).path == "/target_group");
  CHECK(count(world.db(), "SELECT count(*) FROM grants") == 0);

  auto stored = request(engine, world.spec("alice@example.com", 60s));
  CHECK(stored.status == GrantStatus::pending);
  CHECK(stored.created_by == "tester");
  CHECK(stored.access_key.size() == 64);
  CHECK_FALSE(stored.activated_at);
  CHECK(transitions(engine, stored.id) == Pairs{{"-", "pending"}});
  CHECK(engine.get("not-a-uuid").error().code == "not_found");
  CHECK(engine.get("00000000-0000-0000-0000-000000000000").error().code == "not_found");
  auto listed = engine.list(grants::GrantFilter{GrantStatus::pending, "alice@example.com", std::nullopt, 10});
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == stored.id);
  // The same access (group, subject, target) has the same key whatever the property order.
  auto same = world.spec("alice@example.com", 30s);
  same.target = {{"level", "low"}, {"name", "box"}};
  CHECK(request(engine, same).access_key == stored.access_key);
  CHECK(request(engine, world.spec("bob@example.com", 30s)).access_key != stored.access_key);
}

TEST_CASE("routing: numeric priority - priority 0 never - invalid routes skipped - unhealthy skipped until healthy",
          "[grants][routing]") {
  World world("grants_routing");
  for (const char* h : {"h90", "h100", "h0", "hbad"}) world.add_handler(h);
  world.routes({route("h90", 90), route("h100", 100), route("h0", 0), route("hbad", 999, /*valid=*/false)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  const auto first = request(engine, world.spec("alice@example.com", 600s));
  REQUIRE(engine.run_once().ok());
  auto g = get(engine, first.id);
  CHECK(g.status == GrantStatus::active);
  CHECK(g.handler_id == "h100");  // 100 beats 90 (numbers, not text)
  CHECK(world.calls("h100") == std::vector<std::string>{"grant " + first.id});
  CHECK(world.grant_files("h100") == std::set<std::string>{first.id});
  // The routes passed over say why; what the provider said is its own note.
  CHECK(last_reason(engine, first.id) ==
        "granted by handler 'h100' (priority 100); skipped 'hbad' (priority 999): invalid route: not compatible "
        "with the group's kind; skipped 'h0' (priority 0): disabled");
  CHECK(notes_containing(engine, first.id, "handler 'h100' said: granted") == 1);

  // h100 unhealthy: the next grant goes to h90.
  world.plane().set_healthy("h100", false);
  const auto second = request(engine, world.spec("bob@example.com", 600s));
  REQUIRE(engine.run_once().ok());
  CHECK(get(engine, second.id).handler_id == "h90");

  // No healthy candidate: pending, with the reason; the priority-0 and invalid routes are never used.
  world.plane().set_healthy("h90", false);
  const auto third = request(engine, world.spec("carol@example.com", 600s));
  REQUIRE(engine.run_once().ok());
  g = get(engine, third.id);
  CHECK(g.status == GrantStatus::pending);
  CHECK_THAT(g.last_error, Catch::Contains("no candidate: target group 'things' has no valid route"));
  CHECK(g.attempts == 1);

  // h100 healthy again: used again.
  world.plane().set_healthy("h100", true);
  REQUIRE(engine.routing_changed().ok());
  REQUIRE(engine.run_once().ok());
  g = get(engine, third.id);
  CHECK(g.status == GrantStatus::active);
  CHECK(g.handler_id == "h100");
  CHECK(world.calls("h0").empty());
  CHECK(world.calls("hbad").empty());
  CHECK(world.calls("h90") == std::vector<std::string>{"grant " + second.id});
  CHECK(transitions(engine, third.id) == Pairs{{"-", "pending"}, {"pending", "active"}});
  CHECK(notes_containing(engine, third.id, "no candidate") == 1);
}

TEST_CASE("failover: unavailable and timeout go to the next route - a non-retryable error fails at once",
          "[grants][failover]") {
  World world("grants_failover");
  world.add_handler("h1");
  world.add_handler("h2");
  world.routes({route("h1", 100), route("h2", 50)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  SECTION("unavailable") {
    world.script("h1", "mode", "unavailable");
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    const auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::active);
    CHECK(now.handler_id == "h2");
    CHECK(world.calls("h1") == std::vector<std::string>{"grant " + g.id});
    CHECK(world.calls("h2") == std::vector<std::string>{"grant " + g.id});
    CHECK(last_reason(engine, g.id) ==
          "granted by handler 'h2' (priority 50) after handler 'h1': unavailable: scripted: backend unavailable");
    CHECK(world.grant_files("h1").empty());
  }

  SECTION("timeout, with a compensating revoke when the late call succeeds") {
    // h1's Grant is held until the test releases it: the engine gives up on it at its 500 ms call timeout.
    world.script("h1", "grant_mode", "hold:release");
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    // Did not wait for h1: its Grant is there, still held (nothing granted at h1 until the test releases it).
    CHECK(wait_until([&] { return world.calls("h1") == std::vector<std::string>{"grant " + g.id}; }, 60s));
    CHECK(world.grant_files("h1").empty());
    const auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::active);
    CHECK(now.handler_id == "h2");
    CHECK_THAT(last_reason(engine, g.id),
               Catch::Contains("after handler 'h1': deadline_exceeded: the Grant call did not return within 500 ms"));
    const auto failures = world.plane().reported_failures();
    REQUIRE(failures.size() == 1);
    CHECK(failures[0] == std::pair<std::string, std::string>{"h1", "deadline_exceeded"});
    // h1's call finishes late and grants; the engine takes that back there.
    world.script("h1", "release", "now");
    CHECK(wait_until(
        [&] { return world.calls_of("h1", "revoke " + g.id) == 1 && world.grant_files("h1").empty(); }, 60s));
    CHECK(world.calls("h1") == std::vector<std::string>{"grant " + g.id, "revoke " + g.id});
    CHECK(wait_until(
        [&] { return has_note(engine, g.id, "succeeded late; compensating Revoke there succeeded"); }, 60s));
    CHECK(world.grant_files("h2") == std::set<std::string>{g.id});
    CHECK(count(world.db(), "SELECT count(*) FROM accesses WHERE status = 'active' AND handler_id = 'h2'") == 1);
  }

  SECTION("non-retryable: failed with the provider's message, no other handler asked") {
    world.script("h1", "mode", "invalid");
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    const auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::failed);
    CHECK(now.last_error == "refused by handler 'h1': invalid_argument: scripted: the target is invalid here");
    CHECK(now.ended_at);
    CHECK(world.calls("h2").empty());
    CHECK(transitions(engine, g.id) == Pairs{{"-", "pending"}, {"pending", "failed"}});
    CHECK(count(world.db(), "SELECT count(*) FROM accesses WHERE status <> 'none'") == 0);
  }
}

TEST_CASE("no handler can grant: pending with backoff and one note per reason - the clock starts at activation",
          "[grants][clock]") {
  World world("grants_clock");
  world.add_handler("h1");
  world.add_handler("h2");
  world.routes({route("h1", 100), route("h2", 50)});
  world.script("h1", "mode", "unavailable");
  world.script("h2", "mode", "unavailable");
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));
  engine.start();

  const auto g = request(engine, world.spec("alice@example.com", 2s));
  CHECK(wait_until([&] { return get(engine, g.id).attempts >= 4; }, 60s));
  auto now = get(engine, g.id);
  CHECK(now.status == GrantStatus::pending);
  CHECK(now.last_error ==
        "no handler could grant it: handler 'h1': unavailable: scripted: backend unavailable; handler 'h2': "
        "unavailable: scripted: backend unavailable");
  CHECK(notes_containing(engine, g.id, "no handler could grant it") == 1);
  CHECK(world.calls_of("h1", "grant " + g.id) >= 4);

  // Pending for a while longer: time passing is the point here (the clock must not have started), nothing to
  // wait for instead.
  std::this_thread::sleep_for(1500ms);
  world.script("h2", "mode", "");
  CHECK(wait_until([&] { return get(engine, g.id).status == GrantStatus::active; }, 60s));
  now = get(engine, g.id);
  REQUIRE(now.activated_at);
  REQUIRE(now.ends_at);
  CHECK(*now.ends_at - *now.activated_at == 2s);
  CHECK(*now.activated_at - now.requested_at > 1500ms);
  CHECK(now.handler_id == "h2");
  CHECK(wait_until([&] { return get(engine, g.id).status == GrantStatus::expired; }, 60s));
  now = get(engine, g.id);
  REQUIRE(now.ended_at);
  CHECK(*now.ended_at >= *now.ends_at);  // not before its end (how soon after depends on the machine)
  CHECK(world.grant_files("h2").empty());
  CHECK(transitions(engine, g.id) ==
        Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}});
}

TEST_CASE("revoke goes to the granting handler whatever its health - only a same-backend handler may take it",
          "[grants][revoke]") {
  World world("grants_pinned");
  world.add_handler("h1");
  world.add_handler("h2");
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  SECTION("pinned even after a higher-priority route appears") {
    world.routes({route("h2", 50)});
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    REQUIRE(get(engine, g.id).handler_id == "h2");
    world.routes({route("h1", 900), route("h2", 50)});
    REQUIRE(engine.revoke(g.id, "admin", "done early").ok());
    REQUIRE(engine.run_once().ok());
    const auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::revoked);
    CHECK(now.end_reason == "revoked by admin: done early");
    CHECK_THAT(last_reason(engine, g.id), Catch::StartsWith("revoked by handler 'h2' (the granting handler)"));
    CHECK(world.calls("h1").empty());
    CHECK(world.calls("h2") == std::vector<std::string>{"grant " + g.id, "revoke " + g.id});
    CHECK(world.grant_files("h2").empty());
  }

  SECTION("an unhealthy granting handler is still asked, and another handler of the same kind never is") {
    world.routes({route("h1", 100), route("h2", 50)});
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    REQUIRE(get(engine, g.id).handler_id == "h1");
    world.plane().set_healthy("h1", false);  // health decides where new grants go, not whether revokes are sent
    REQUIRE(engine.revoke(g.id, "admin", "").ok());
    REQUIRE(engine.run_once().ok());
    CHECK(get(engine, g.id).status == GrantStatus::revoked);
    CHECK_THAT(last_reason(engine, g.id), Catch::StartsWith("revoked by handler 'h1' (the granting handler)"));
    CHECK(world.calls_of("h1", "revoke " + g.id) == 1);
    CHECK(world.calls_of("h2", "revoke " + g.id) == 0);
    CHECK(world.grant_files("h1").empty());
  }

  SECTION("a failing unhealthy granting handler: no fallback, revoke_failing at once, retried when healthy again") {
    world.routes({route("h1", 100), route("h2", 50)});
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    world.script("h1", "revoke_mode", "unavailable");
    world.plane().set_healthy("h1", false);
    REQUIRE(engine.revoke(g.id, "admin", "").ok());
    REQUIRE(engine.run_once().ok());
    auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::revoking);
    CHECK(now.revoke_failing);  // nobody who may confirm is healthy: flagged on the first failure
    CHECK(now.last_error == "handler 'h1': unavailable: scripted: backend unavailable");
    CHECK(notes_containing(engine, g.id, "flagged revoke_failing") == 1);
    CHECK(world.calls_of("h2", "revoke " + g.id) == 0);  // the healthy h2 never held it: never asked
    CHECK(world.grant_files("h1") == std::set<std::string>{g.id});
    auto failing = engine.list([] {
      grants::GrantFilter f;
      f.revoke_failing_only = true;
      return f;
    }());
    REQUIRE(failing.ok());
    REQUIRE(failing->size() == 1);
    CHECK(failing->front().id == g.id);

    // Healthy again: routing_changed() makes the owed revoke due now, not at its next backoff step.
    world.script("h1", "revoke_mode", "");
    world.plane().set_healthy("h1", true);
    REQUIRE(engine.routing_changed().ok());
    REQUIRE(engine.run_once().ok());
    now = get(engine, g.id);
    CHECK(now.status == GrantStatus::revoked);
    CHECK_FALSE(now.revoke_failing);
    CHECK(world.grant_files("h1").empty());
  }

  SECTION("handlers declared on the same backend are interchangeable for revokes") {
    world.add_handler("h3", true, world.dir("h1"));  // h3 manages what h1 manages: the same state directory
    for (const char* h : {"h1", "h3"}) world.plane().set_identity(h, "gatehouse/scripted", "shared-backend");
    world.plane().set_identity("h2", "gatehouse/scripted", "other-backend");
    world.routes({route("h1", 100), route("h2", 50)});
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    REQUIRE(get(engine, g.id).handler_id == "h1");
    world.plane().set_handler("h1", nullptr, false);  // h1 exists but has no instance: it cannot answer
    REQUIRE(engine.revoke(g.id, "admin", "").ok());
    REQUIRE(engine.run_once().ok());
    CHECK(get(engine, g.id).status == GrantStatus::revoked);
    CHECK_THAT(last_reason(engine, g.id),
               Catch::StartsWith("revoked by handler 'h3' (same backend 'shared-backend' as the granting handler 'h1')"));
    CHECK(world.calls_of("h2", "revoke " + g.id) == 0);
    CHECK(world.grant_files("h1").empty());
  }

  SECTION("a deleted granting handler: revoke_failing until an admin force-closes or re-points it") {
    world.add_handler("h3", true, world.dir("h1"));
    world.plane().set_identity("h1", "gatehouse/scripted", "shared-backend");
    world.plane().set_identity("h3", "gatehouse/scripted", "shared-backend");
    world.plane().set_identity("h2", "gatehouse/scripted", "");
    world.routes({route("h1", 100), route("h2", 50)});
    const auto g = request(engine, world.spec("alice@example.com", 600s));
    REQUIRE(engine.run_once().ok());
    world.plane().remove_handler("h1");
    world.routes({route("h2", 50)});
    REQUIRE(engine.revoke(g.id, "admin", "").ok());
    REQUIRE(engine.run_once().ok());
    auto now = get(engine, g.id);
    CHECK(now.status == GrantStatus::revoking);
    CHECK(now.revoke_failing);
    CHECK_THAT(now.last_error, Catch::Contains("the granting handler 'h1' was deleted") &&
                                   Catch::Contains("--force --reason") && Catch::Contains("--handler"));
    CHECK(world.calls_of("h2", "revoke " + g.id) == 0);
    CHECK(world.calls_of("h3", "revoke " + g.id) == 0);

    grants::RevokeOptions to_h2;
    to_h2.handler = "h2";  // another backend: refused
    auto refused = engine.revoke(g.id, "admin", "", to_h2);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == "failed_precondition");
    CHECK_THAT(refused.error().message, Catch::Contains("must run provider gatehouse/scripted and declare backend "
                                                        "'shared-backend'"));

    grants::RevokeOptions force;
    force.force = true;
    auto no_reason = engine.revoke(g.id, "admin", "", force);
    REQUIRE_FALSE(no_reason.ok());
    CHECK(no_reason.error().code == "invalid_argument");

    auto closed = engine.revoke(g.id, "admin", "h1 was decommissioned", force);
    REQUIRE(closed.ok());
    CHECK(closed->status == GrantStatus::revoked);
    CHECK(closed->access_may_persist);
    CHECK_FALSE(closed->revoke_failing);
    CHECK_THAT(last_reason(engine, g.id), Catch::Contains("force-closed by admin: h1 was decommissioned") &&
                                              Catch::Contains("access_may_persist"));
    CHECK(world.grant_files("h1") == std::set<std::string>{g.id});  // still there: that is what the flag says

    // A revoke of a force-closed grant is attempted again; re-pointed to the handler of the same backend.
    grants::RevokeOptions to_h3;
    to_h3.handler = "h3";
    auto again = engine.revoke(g.id, "admin", "h3 took over h1's backend", to_h3);
    REQUIRE(again.ok());
    CHECK(again->status == GrantStatus::revoking);
    REQUIRE(engine.run_once().ok());
    now = get(engine, g.id);
    CHECK(now.status == GrantStatus::revoked);
    CHECK_FALSE(now.access_may_persist);
    CHECK_THAT(last_reason(engine, g.id), Catch::StartsWith("revoked by handler 'h3' (the granting handler)"));
    CHECK(world.grant_files("h1").empty());
  }
}

TEST_CASE("overlapping grants share one provider access until the last one ends", "[grants][overlap]") {
  World world("grants_overlap");
  world.add_handler("h1");
  world.routes({route("h1", 100)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));
  engine.start();

  // The second must join while the first is still active: 3 s of margin for that on a loaded machine.
  const auto first = request(engine, world.spec("alice@example.com", 3s));
  REQUIRE(wait_until([&] { return get(engine, first.id).status == GrantStatus::active; }, 60s));
  const auto second = request(engine, world.spec("alice@example.com", 6s));
  REQUIRE(wait_until([&] { return get(engine, second.id).status == GrantStatus::active; }, 60s));
  CHECK_THAT(last_reason(engine, second.id), Catch::Contains("joined the access that handler 'h1' already grants"));
  CHECK(world.calls("h1") == std::vector<std::string>{"grant " + first.id});

  // The first expires: its access is still needed by the second, so nothing is revoked.
  REQUIRE(wait_until([&] { return get(engine, first.id).status == GrantStatus::expired; }, 60s));
  CHECK(last_reason(engine, first.id) == "expired at its end time; access still covered by grant " + second.id);
  CHECK(world.grant_files("h1") == std::set<std::string>{first.id});
  CHECK(get(engine, second.id).status == GrantStatus::active);

  // The second ends: now the provider's Revoke runs, once, with the first grant's key and state.
  REQUIRE(wait_until([&] { return get(engine, second.id).status == GrantStatus::expired; }, 60s));
  CHECK(world.grant_files("h1").empty());
  CHECK(world.calls("h1") == std::vector<std::string>{"grant " + first.id, "revoke " + first.id});
  CHECK(transitions(engine, first.id) == Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "expired"}});
  CHECK(transitions(engine, second.id) ==
        Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}});
  CHECK(count(world.db(), "SELECT count(*) FROM accesses WHERE status = 'none' AND provider_state IS NULL") == 1);
}

TEST_CASE("early revoke: a pending grant is cancelled without a call - an active one is revoked - both idempotent",
          "[grants][revoke]") {
  World world("grants_early");
  world.add_handler("h1");
  world.routes({route("h1", 100)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  auto later = world.spec("alice@example.com", 600s);
  later.not_before = grants::Clock::now() + 1h;
  const auto pending = request(engine, later);
  auto cancelled = engine.revoke(pending.id, "bob", "not needed");
  REQUIRE(cancelled.ok());
  CHECK(cancelled->status == GrantStatus::revoked);
  CHECK(cancelled->revoke_requested_by == "bob");
  CHECK(transitions(engine, pending.id) == Pairs{{"-", "pending"}, {"pending", "revoked"}});
  CHECK(last_reason(engine, pending.id) == "cancelled before activation: revoked by bob: not needed");

  const auto active = request(engine, world.spec("carol@example.com", 600s));
  REQUIRE(engine.run_once().ok());
  auto asked = engine.revoke(active.id, "bob", "");
  REQUIRE(asked.ok());
  CHECK(asked->end_requested);
  REQUIRE(engine.run_once().ok());
  CHECK(get(engine, active.id).status == GrantStatus::revoked);
  CHECK(world.calls("h1") == std::vector<std::string>{"grant " + active.id, "revoke " + active.id});

  auto again = engine.revoke(active.id, "bob", "");
  REQUIRE(again.ok());
  CHECK(again->status == GrantStatus::revoked);
  CHECK(engine.revoke("00000000-0000-0000-0000-000000000000", "bob", "").error().code == "not_found");
  REQUIRE(engine.run_once().ok());
  CHECK(world.calls("h1").size() == 2);
}

TEST_CASE("already_exists counts as success", "[grants]") {
  World world("grants_already");
  world.add_handler("h1");
  world.routes({route("h1", 100)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  const auto g = request(engine, world.spec("alice@example.com", 600s));
  std::ofstream(world.dir("h1") + "/grants/" + g.id) << R"({"file":"grants/)" << g.id << R"(","handler":"h1"})";
  REQUIRE(engine.run_once().ok());
  CHECK(get(engine, g.id).status == GrantStatus::active);
  CHECK(last_reason(engine, g.id) ==
        "granted by handler 'h1' (priority 100); the provider already had it (already_exists)");
  CHECK(scalar(world.db(), "SELECT convert_from(provider_state, 'UTF8') FROM accesses") ==
        R"({"file":"grants/)" + g.id + R"(","handler":"h1"})");
}

TEST_CASE("failing revokes retry with backoff - are flagged revoke_failing - and clear on success",
          "[grants][revoke]") {
  World world("grants_failing");
  world.add_handler("h1");
  world.routes({route("h1", 100)});
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));
  engine.start();

  world.script("h1", "revoke_mode", "unavailable");
  const auto g = request(engine, world.spec("alice@example.com", 1s));
  REQUIRE(wait_until([&] { return get(engine, g.id).revoke_failing; }, 60s));
  auto now = get(engine, g.id);
  CHECK(now.status == GrantStatus::revoking);
  CHECK(now.attempts >= 5);
  CHECK(now.last_error == "handler 'h1': unavailable: scripted: backend unavailable");
  CHECK(world.calls_of("h1", "revoke " + g.id) >= 5);
  CHECK(notes_containing(engine, g.id, "revoke failed: handler 'h1': unavailable") == 1);
  CHECK(notes_containing(engine, g.id, "flagged revoke_failing") == 1);
  CHECK(world.grant_files("h1") == std::set<std::string>{g.id});

  // Another grant of the same access waits for the revoke instead of racing it.
  const auto next = request(engine, world.spec("alice@example.com", 1s));
  CHECK(wait_until(
      [&] { return get(engine, next.id).last_error.find("waiting for the revoke of the same access") != std::string::npos; },
      60s));
  CHECK(get(engine, next.id).status == GrantStatus::pending);
  CHECK_THAT(get(engine, next.id).last_error, Catch::Contains("waiting for the revoke of the same access"));

  world.script("h1", "revoke_mode", "");
  REQUIRE(wait_until([&] { return get(engine, g.id).status == GrantStatus::expired; }, 60s));
  now = get(engine, g.id);
  CHECK_FALSE(now.revoke_failing);
  CHECK(now.last_error.empty());
  // Then the waiting grant gets a fresh access, granted under its own id.
  REQUIRE(wait_until([&] { return get(engine, next.id).status != GrantStatus::pending; }, 60s));
  CHECK(world.calls_of("h1", "grant " + next.id) == 1);
}

TEST_CASE("the grants tables never hold a handler's config secrets", "[grants][secrets]") {
  World world("grants_secrets");
  const std::string token = "s3cret-demo-token-value";
  world.add_demo_handler("demo", token);
  REQUIRE(world.plane().set_routes({routing::Route{"projects", "demo", "gatehouse/demo/ProjectRole", 100, true}}).ok());
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  grants::GrantRequestSpec spec;
  spec.subject = "alice@example.com";
  spec.target_group = "projects";
  spec.target = {{"project", "apollo"}, {"role", "editor"}};
  spec.duration = 600s;
  spec.actor = "tester";
  const auto g = request(engine, spec);
  REQUIRE(engine.run_once().ok());
  REQUIRE(get(engine, g.id).status == GrantStatus::active);
  CHECK(world.grant_files("demo") == std::set<std::string>{g.id + ".json"});
  CHECK(scalar(world.db(), "SELECT convert_from(provider_state, 'UTF8') FROM accesses") ==
        R"({"file":"grants/)" + g.id + R"(.json","project":"apollo","role":"editor"})");

  REQUIRE(engine.revoke(g.id, "tester", "").ok());
  REQUIRE(engine.run_once().ok());
  REQUIRE(get(engine, g.id).status == GrantStatus::revoked);
  CHECK(world.grant_files("demo").empty());
  for (const char* table : {"grants", "grant_history", "accesses"}) {
    const std::string dump =
        scalar(world.db(), std::string("SELECT coalesce(string_agg(t::text, '|'), '') FROM ") + table + " t");
    INFO(table << ": " << dump);
    CHECK(dump.find(token) == std::string::npos);
    CHECK(dump.find("token") == std::string::npos);
  }
}
