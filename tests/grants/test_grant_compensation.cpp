// Compensating Revokes after a Grant with an unknown outcome (grant_compensations, migration 0006): the
// handler whose call failed with transport_failed may hold access nobody knows about. The engine fails over,
// records the Revoke it owes in the same transaction, and sends it (same key, same kind, empty state) whatever
// the handler's health until it confirms — at once when its health turns good, also after a restart, and never
// to the handler that ends up holding the access.
#include "grant_test_support.hpp"

#include <gatehouse/provider/v1/provider.pb.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;

namespace {

// A scripted handler whose runner "dies" after the provider answered a Grant: the provider acted, the engine
// hears transport_failed (while `lose` is set). Revokes fail the same way while `refuse_revokes` is set (the
// runner is still down); once it is cleared they are forwarded and recorded with their keys and kinds.
class LosingClient final : public gatehouse::host::ProviderClient {
 public:
  explicit LosingClient(std::shared_ptr<gatehouse::host::ProviderClient> inner) : inner_(std::move(inner)) {}

  bool enforces_deadline() const override { return inner_->enforces_deadline(); }
  gatehouse::host::Result<std::string> call(std::string_view request_bytes, gatehouse::host::CallDeadline deadline) override {
    gatehouse::provider::v1::Request request;
    const bool parsed = request.ParseFromArray(request_bytes.data(), static_cast<int>(request_bytes.size()));
    if (parsed && request.has_revoke() && refuse_revokes)
      return gatehouse::host::make_error(gatehouse::host::ErrorCode::transport_failed, "provider runner is down (test)");
    auto reply = inner_->call(request_bytes, deadline);
    if (parsed) {
      if (request.has_revoke()) {
        std::lock_guard lock(mutex_);
        revokes_.push_back(request.revoke().grant_id() + " " + request.revoke().target().kind() + " state='" +
                           request.revoke().state() + "'");
      }
      if (request.has_grant() && lose)
        return gatehouse::host::make_error(gatehouse::host::ErrorCode::transport_failed, "provider runner died during a call (test)");
    }
    return reply;
  }

  std::shared_ptr<gatehouse::host::ProviderClient> inner() const { return inner_; }

  std::vector<std::string> revokes() const {
    std::lock_guard lock(mutex_);
    return revokes_;
  }

  std::atomic<bool> lose{true};
  std::atomic<bool> refuse_revokes{true};

 private:
  std::shared_ptr<gatehouse::host::ProviderClient> inner_;
  mutable std::mutex mutex_;
  std::vector<std::string> revokes_;
};

routing::Route route(const std::string& handler, int priority) {
  return routing::Route{kGroup, handler, "Thing", priority, true};
}

// h1 (priority 100) loses its Grant replies, h2 (50) is a plain scripted handler; failures mark handlers unhealthy.
std::shared_ptr<LosingClient> losing_world(World& world) {
  world.add_handler("h1");
  world.add_handler("h2");
  auto inner = grant_test::scripted_module()->create(nlohmann::json{{"state_dir", world.dir("h1")}}, "h1");
  REQUIRE(inner.ok());
  auto losing = std::make_shared<LosingClient>(std::shared_ptr<gatehouse::host::ProviderClient>(std::move(*inner)));
  world.plane().set_handler("h1", losing, true);
  world.plane().set_unhealthy_on_failure(true);
  world.routes({route("h1", 100), route("h2", 50)});
  return losing;
}

bool has_note(GrantEngine& engine, const std::string& id, const std::string& text) {
  auto h = engine.history(id);
  REQUIRE(h.ok());
  for (const auto& e : *h)
    if (e.is_note() && e.reason.find(text) != std::string::npos) return true;
  return false;
}

std::string open_compensations(World& world) {
  return scalar(world.db(),
                "SELECT string_agg(handler_id || ' ' || idempotency_key || ' ' || kind, ', ') "
                "FROM grant_compensations WHERE done_at IS NULL");
}

// A grant whose Grant at h1 had an unknown outcome (losing_world): it failed over, and h1 is owed a
// compensating Revoke. Returns its id.
std::string grant_owing_h1_a_revoke(World& world, GrantEngine& engine) {
  const auto g = engine.request(world.spec("alice@example.com", 600s));
  REQUIRE(g.ok());
  REQUIRE(engine.run_once().ok());
  REQUIRE(open_compensations(world) == "h1 " + g->id + " Thing");
  return g->id;
}

void run_until_no_compensation_is_open(World& world, GrantEngine& engine) {
  REQUIRE(wait_until(
      [&] {
        REQUIRE(engine.run_once().ok());
        return open_compensations(world).empty();
      },
      30s));  // a deadline for a stuck test on a loaded machine, not a bound on the engine
}

grants::GrantRecord get(GrantEngine& engine, const std::string& id) {
  auto g = engine.get(id);
  REQUIRE(g.ok());
  return *g;
}

}  // namespace

TEST_CASE("a Grant lost with transport_failed fails over, and the first handler gets a compensating Revoke",
          "[grants][compensation]") {
  World world("grants_compensation");
  auto h1 = losing_world(world);
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  const auto g = engine.request(world.spec("alice@example.com", 600s));
  REQUIRE(g.ok());
  REQUIRE(engine.run_once().ok());
  auto now = get(engine, g->id);
  CHECK(now.status == GrantStatus::active);
  CHECK(now.handler_id == "h2");
  // The leak: h1 granted, the engine never heard. The Revoke it owes is on record and attempted although h1 is
  // unhealthy (health never decides whether a revoke is attempted); its runner is still down, so it failed.
  CHECK(world.grant_files("h1") == std::set<std::string>{g->id});
  CHECK(open_compensations(world) == "h1 " + g->id + " Thing");
  CHECK_FALSE(world.plane().handler_healthy("h1"));
  REQUIRE(engine.run_once().ok());
  CHECK(h1->revokes().empty());
  CHECK(count(world.db(), "SELECT attempts FROM grant_compensations") >= 1);
  CHECK(scalar(world.db(), "SELECT last_error FROM grant_compensations") ==
        "transport_failed: provider runner is down (test)");

  // Back: its health turning good makes the owed Revoke due at once (routing_changed), not at its next backoff.
  h1->refuse_revokes = false;
  world.plane().set_healthy("h1", true);
  REQUIRE(engine.routing_changed().ok());
  CHECK(count(world.db(), "SELECT count(*) FROM grant_compensations WHERE next_attempt_at <= now()") == 1);
  REQUIRE(wait_until(
      [&] {
        REQUIRE(engine.run_once().ok());
        return !h1->revokes().empty();
      },
      30s));  // a deadline for a stuck test on a loaded machine, not a bound on the engine
  CHECK(h1->revokes() == std::vector<std::string>{g->id + " Thing state=''"});  // same key and kind, empty state
  CHECK(world.grant_files("h1").empty());
  CHECK(world.grant_files("h2") == std::set<std::string>{g->id});
  CHECK(has_note(engine, g->id, "compensating Revoke on handler 'h1' after an unknown Grant outcome: succeeded"));
  CHECK(open_compensations(world).empty());
  CHECK(scalar(world.db(), "SELECT outcome FROM grant_compensations") == "revoked");
  // The real grant is untouched.
  now = get(engine, g->id);
  CHECK(now.status == GrantStatus::active);
  CHECK(now.handler_id == "h2");
  CHECK(scalar(world.db(), "SELECT status || ' ' || handler_id FROM accesses") == "active h2");
  CHECK(world.calls_of("h2", "revoke " + g->id) == 0);
}

TEST_CASE("an owed compensating Revoke survives the engine: a new engine sends it", "[grants][compensation]") {
  World world("grants_compensation_restart");
  auto h1 = losing_world(world);
  std::string id;
  {
    GrantEngine first(world.db(), world.plane(), World::fast_options("e1"));
    const auto g = first.request(world.spec("alice@example.com", 600s));
    REQUIRE(g.ok());
    id = g->id;
    REQUIRE(first.run_once().ok());
    REQUIRE(get(first, id).handler_id == "h2");
    REQUIRE(open_compensations(world) == "h1 " + id + " Thing");
  }  // destroyed while h1 is down: the Revoke was never sent
  CHECK(h1->revokes().empty());
  CHECK(world.grant_files("h1") == std::set<std::string>{id});

  h1->refuse_revokes = false;
  world.plane().set_healthy("h1", true);
  GrantEngine second(world.db(), world.plane(), World::fast_options("e2"));
  second.start();
  CHECK(wait_until([&] { return open_compensations(world).empty(); }, 60s));
  second.stop();
  CHECK(h1->revokes() == std::vector<std::string>{id + " Thing state=''"});
  CHECK(world.grant_files("h1").empty());
  CHECK(world.grant_files("h2") == std::set<std::string>{id});
  CHECK(has_note(second, id, "compensating Revoke on handler 'h1' after an unknown Grant outcome: succeeded"));
  CHECK(get(second, id).status == GrantStatus::active);
}

TEST_CASE("the handler that ends up holding the access with the same key keeps it", "[grants][compensation]") {
  World world("grants_compensation_holder");
  auto h1 = losing_world(world);
  world.script("h2", "mode", "unavailable");
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));

  const auto g = engine.request(world.spec("alice@example.com", 600s));
  REQUIRE(g.ok());
  REQUIRE(engine.run_once().ok());
  CHECK(get(engine, g->id).status == GrantStatus::pending);  // h1 lost, h2 unavailable
  CHECK(open_compensations(world) == "h1 " + g->id + " Thing");

  // h1 is back and answers (its runner serves Grants and Revokes again): the retried Grant (same key) lands
  // there, whatever the compensation did first. (Revokes are attempted whatever the health: had they kept
  // failing with transport_failed, each failure would mark h1 unhealthy again and no Grant could reach it.)
  h1->lose = false;
  h1->refuse_revokes = false;
  world.plane().set_healthy("h1", true);
  REQUIRE(wait_until(
      [&] {
        REQUIRE(engine.run_once().ok());
        return get(engine, g->id).status == GrantStatus::active && open_compensations(world).empty();
      },
      30s));  // a deadline for a stuck test on a loaded machine, not a bound on the engine
  CHECK(get(engine, g->id).handler_id == "h1");
  CHECK(world.grant_files("h1") == std::set<std::string>{g->id});
  CHECK(scalar(world.db(), "SELECT status || ' ' || handler_id FROM accesses") == "active h1");
  const std::string outcome = scalar(world.db(), "SELECT outcome FROM grant_compensations");
  CHECK((outcome == "not_needed" || outcome == "revoked"));
  if (outcome == "not_needed")
    CHECK(has_note(engine, g->id, "after an unknown Grant outcome: not needed: the handler holds the access"));
}

TEST_CASE("a compensating Revoke for a deleted handler is abandoned with a note", "[grants][compensation]") {
  World world("grants_compensation_gone");
  auto h1 = losing_world(world);
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));
  const std::string id = grant_owing_h1_a_revoke(world, engine);

  world.plane().remove_handler("h1");
  run_until_no_compensation_is_open(world, engine);
  CHECK(h1->revokes().empty());
  CHECK(scalar(world.db(), "SELECT outcome FROM grant_compensations") == "abandoned");
  CHECK(has_note(engine, id,
                 "compensating Revoke on handler 'h1' after an unknown Grant outcome: abandoned: the handler was deleted"));
}

TEST_CASE("a compensating Revoke is never sent to a handler created again under the same id",
          "[grants][compensation]") {
  World world("grants_compensation_recreated");
  auto h1 = losing_world(world);
  GrantEngine engine(world.db(), world.plane(), World::fast_options("e1"));
  const std::string id = grant_owing_h1_a_revoke(world, engine);

  // h1 is deleted and a new h1 (another backend: a plain client that answers every Revoke) takes its id.
  world.plane().remove_handler("h1");
  auto stranger = std::make_shared<LosingClient>(h1->inner());
  stranger->lose = false;
  stranger->refuse_revokes = false;
  world.plane().set_handler("h1", stranger, true);
  run_until_no_compensation_is_open(world, engine);
  CHECK(stranger->revokes().empty());  // never asked: its "already revoked" would prove nothing
  CHECK(scalar(world.db(), "SELECT outcome FROM grant_compensations") == "abandoned");
  CHECK(has_note(engine, id, "abandoned: the handler was deleted and created again since"));
}
