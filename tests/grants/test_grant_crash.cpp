// Crash safety and replicas: an engine killed with SIGKILL between the steps of a grant (a helper process,
// grant_engine_worker) is resumed by a new engine without duplicate provider-side access, and two engines on
// one database share the work without dispatching a transition twice.
#include "grant_test_support.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

using namespace grant_test;
using grants::GrantEngine;
using grants::GrantStatus;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The claim lease of a killed worker: 10 minutes, far beyond any wait of these tests.
constexpr const char* kLongLeaseMs = "600000";

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

std::vector<std::string> worker_args(World& world, const std::string& engine_id, const std::string& crash_on,
                                     int run_ms) {
  return {engine_worker_path(),   world.connection(),     engine_id, crash_on,
          std::to_string(run_ms), "h1=" + world.dir("h1")};
}

// The helper in the background: killed by the test, not by itself.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv) {
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) kill9();
  }
  int kill9() {
    int status = 0;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }

 private:
  pid_t pid_ = -1;
};

double seconds_between(std::optional<grants::TimePoint> later, std::optional<grants::TimePoint> earlier) {
  REQUIRE(later);
  REQUIRE(earlier);
  return std::chrono::duration<double>(*later - *earlier).count();
}

}  // namespace

// One test case (three sections) rather than three: each test process starts its own PostgreSQL.
TEST_CASE("kill -9 between the steps of a grant: a new engine resumes without duplicate access", "[grants][crash]") {
  SECTION("kill -9 after the provider granted but before the commit: the restarted engine finishes it once") {
    World world("grants_crash_grant");
    world.add_handler("h1");
    world.routes({routing::Route{kGroup, "h1", "Thing", 100, true}});
    GrantEngine observer(world.db(), world.plane(), World::fast_options("observer"));
    const auto g = request(observer, world.spec("alice@example.com", 2s));

    // A lease far longer than the test may wait: only the restart (same engine id) can take the claim back.
    const auto crashed = gatehouse::test::run_process(worker_args(world, "replica-1", "grant", 60000),
                                                      {{"GRANT_WORKER_LEASE_MS", kLongLeaseMs}}, 120);
    REQUIRE(crashed.exit_code == 128 + SIGKILL);
    // The provider acted, the database never heard: pending, access still "granting" on h1 with the grant's key.
    CHECK(world.grant_files("h1") == std::set<std::string>{g.id});
    CHECK(get(observer, g.id).status == GrantStatus::pending);
    CHECK(scalar(world.db(), "SELECT status || ' ' || handler_id || ' ' || provider_grant_id FROM accesses") ==
          "granting h1 " + g.id);

    // The same replica restarts: it takes its predecessor's claims back at once.
    GrantEngine restarted(world.db(), world.plane(), World::fast_options("replica-1"));
    restarted.start();
    // Active within the wait, far inside the 10 min lease: the restart took the claim back, not its expiry.
    REQUIRE(wait_until([&] { return get(observer, g.id).status == GrantStatus::active; }, 60s));
    CHECK(world.calls("h1") == std::vector<std::string>{"grant " + g.id, "grant " + g.id});  // same key twice
    CHECK(world.grant_files("h1") == std::set<std::string>{g.id});                           // one access
    auto h = observer.history(g.id);
    REQUIRE(h.ok());
    // The activation says it; the provider's own words follow as a note.
    REQUIRE(h->size() >= 2);
    CHECK((*h)[h->size() - 2].to == GrantStatus::active);
    CHECK_THAT((*h)[h->size() - 2].reason, Catch::Contains("already had it (already_exists)"));
    CHECK(h->back().is_note());
    CHECK_THAT(h->back().reason, Catch::StartsWith("handler 'h1' said: "));

    REQUIRE(wait_until([&] { return get(observer, g.id).status == GrantStatus::expired; }, 60s));
    const auto done = get(observer, g.id);
    CHECK(seconds_between(done.ended_at, done.ends_at) >= 0.0);  // not before its end
    CHECK(world.grant_files("h1").empty());
    CHECK(transitions(observer, g.id) ==
          Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}});
  }

  SECTION("kill -9 during a hung Grant: another engine takes over when the lease runs out") {
    World world("grants_crash_hang");
    world.add_handler("h1");
    world.routes({routing::Route{kGroup, "h1", "Thing", 100, true}});
    GrantEngine observer(world.db(), world.plane(), World::fast_options("observer"));
    world.script("h1", "grant_mode", "hang:600000");  // until the worker is killed
    const auto g = request(observer, world.spec("alice@example.com", 2s));

    Background worker(worker_args(world, "replica-1", "none", 600000));
    REQUIRE(wait_until([&] { return world.calls_of("h1", "grant " + g.id) == 1; }, 60s));
    CHECK(worker.kill9() == 128 + SIGKILL);
    world.script("h1", "grant_mode", "");
    CHECK(world.grant_files("h1").empty());

    GrantEngine other(world.db(), world.plane(), World::fast_options("replica-2"));
    other.start();
    REQUIRE(wait_until([&] { return get(observer, g.id).status == GrantStatus::active; }, 60s));  // lease: 2 s
    CHECK(world.calls("h1") == std::vector<std::string>{"grant " + g.id, "grant " + g.id});
    CHECK(world.grant_files("h1") == std::set<std::string>{g.id});
    REQUIRE(wait_until([&] { return get(observer, g.id).status == GrantStatus::expired; }, 60s));
    const auto done = get(observer, g.id);
    CHECK(seconds_between(done.ended_at, done.ends_at) >= 0.0);  // not before its end
    CHECK(world.grant_files("h1").empty());
    CHECK(transitions(observer, g.id) ==
          Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}});
  }

  SECTION("kill -9 after the provider revoked but before the commit: the revoke is finished on restart") {
    World world("grants_crash_revoke");
    world.add_handler("h1");
    world.routes({routing::Route{kGroup, "h1", "Thing", 100, true}});
    GrantEngine observer(world.db(), world.plane(), World::fast_options("observer"));
    const auto g = request(observer, world.spec("alice@example.com", 1s));
    REQUIRE(observer.run_once().ok());
    REQUIRE(get(observer, g.id).status == GrantStatus::active);

    // A lease far longer than the test may wait: only the restart (same engine id) can take the claim back.
    const auto crashed = gatehouse::test::run_process(worker_args(world, "replica-1", "revoke", 60000),
                                                      {{"GRANT_WORKER_LEASE_MS", kLongLeaseMs}}, 120);
    REQUIRE(crashed.exit_code == 128 + SIGKILL);
    CHECK(world.grant_files("h1").empty());  // the provider revoked
    auto now = get(observer, g.id);
    CHECK(now.status == GrantStatus::revoking);  // never left revoking: access is not considered gone yet
    CHECK(scalar(world.db(), "SELECT status FROM accesses") == "revoking");

    GrantEngine restarted(world.db(), world.plane(), World::fast_options("replica-1"));
    restarted.start();
    // Expired within the wait, far inside the 10 min lease: the restart took the claim back, not its expiry.
    REQUIRE(wait_until([&] { return get(observer, g.id).status == GrantStatus::expired; }, 60s));
    now = get(observer, g.id);
    CHECK(world.calls("h1") == std::vector<std::string>{"grant " + g.id, "revoke " + g.id, "revoke " + g.id});
    auto h = observer.history(g.id);
    REQUIRE(h.ok());
    REQUIRE(h->size() >= 2);
    CHECK((*h)[h->size() - 2].to == GrantStatus::expired);
    CHECK_THAT((*h)[h->size() - 2].reason, Catch::Contains("the provider said it was already revoked"));
    CHECK_THAT(h->back().reason, Catch::Equals("handler 'h1' said: nothing to revoke"));
    // It stopped being active at its end (not before), in the killed engine.
    const auto revoking_at = [&] {
      for (const auto& e : *h)
        if (e.from == GrantStatus::active && e.to == GrantStatus::revoking) return e.at;
      FAIL("no active -> revoking transition");
      return grants::TimePoint{};
    }();
    CHECK(seconds_between(revoking_at, now.ends_at) >= 0.0);
    CHECK(transitions(observer, g.id) ==
          Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}});
  }
}

TEST_CASE("two engines on one database share 200 grants without duplicate transitions", "[grants][replicas]") {
  World world("grants_replicas");
  world.add_handler("h1");
  world.add_handler("h2");
  world.routes({routing::Route{kGroup, "h1", "Thing", 100, true}, routing::Route{kGroup, "h2", "Thing", 50, true}});
  store::Database second_db(world.connection(), store::DatabaseOptions{8, std::chrono::seconds(30)});
  auto options_a = World::fast_options("replica-a");
  auto options_b = World::fast_options("replica-b");
  options_a.workers = options_b.workers = 3;
  GrantEngine a(world.db(), world.plane(), options_a);
  GrantEngine b(second_db, world.plane(), options_b);
  a.start();
  b.start();

  constexpr int kGrants = 200;
  constexpr int kAccesses = 50;  // four overlapping grants per access
  std::vector<std::string> ids;
  for (int i = 0; i < kGrants; ++i) {
    GrantEngine& engine = i % 2 ? a : b;
    ids.push_back(request(engine, world.spec("user-" + std::to_string(i % kAccesses), 3s)).id);
  }
  REQUIRE(wait_until(
      [&] {
        return count(world.db(), "SELECT count(*) FROM grants WHERE status IN ('expired', 'revoked', 'failed')") ==
               kGrants;
      },
      40s));
  a.stop();
  b.stop();

  CHECK(count(world.db(), "SELECT count(*) FROM grants WHERE status = 'expired'") == kGrants);
  // Every transition once: no (grant, from, to) twice.
  CHECK(count(world.db(),
              "SELECT count(*) FROM (SELECT grant_id, from_status, to_status FROM grant_history "
              "WHERE from_status IS DISTINCT FROM to_status GROUP BY 1, 2, 3 HAVING count(*) > 1) d") == 0);
  // Each grant: pending, active, then expired either directly (still covered) or through revoking.
  for (const auto& id : ids) {
    const auto t = transitions(a, id);
    const bool covered = t == Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "expired"}};
    const bool revoked =
        t == Pairs{{"-", "pending"}, {"pending", "active"}, {"active", "revoking"}, {"revoking", "expired"}};
    INFO(id);
    CHECK((covered || revoked));
  }
  // One provider Grant and one Revoke per access, all on h1; nothing left behind.
  const auto calls = world.calls("h1");
  std::map<std::string, int> grants_per_key, revokes_per_key;
  for (const auto& line : calls) {
    if (line.rfind("grant ", 0) == 0) ++grants_per_key[line.substr(6)];
    if (line.rfind("revoke ", 0) == 0) ++revokes_per_key[line.substr(7)];
  }
  CHECK(grants_per_key.size() == kAccesses);
  CHECK(revokes_per_key.size() == kAccesses);
  for (const auto& [key, n] : grants_per_key) CHECK(n == 1);
  for (const auto& [key, n] : revokes_per_key) CHECK(n == 1);
  CHECK(grants_per_key.size() + revokes_per_key.size() == calls.size());
  CHECK(world.calls("h2").empty());
  CHECK(world.grant_files("h1").empty());
  CHECK(count(world.db(), "SELECT count(*) FROM accesses WHERE status <> 'none'") == 0);
  CHECK(count(world.db(), "SELECT count(*) FROM grants WHERE lease_owner IS NOT NULL") == 0);
  // Both engines did transitions.
  CHECK(count(world.db(),
              "SELECT count(DISTINCT engine) FROM grant_history WHERE from_status IS NOT NULL "
              "AND from_status <> to_status") == 2);
}
