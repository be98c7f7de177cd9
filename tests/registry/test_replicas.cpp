// Two registries on one database, as two gatehoused replicas hold them: what is created, changed and deleted
// through one reaches the other through reconcile() (the daemon calls it on a NOTIFY; tests/daemon runs two real
// daemons). Real PostgreSQL, real demo provider.
#include "registry_fixture.hpp"

#include "store/notification_listener.hpp"

#include <condition_variable>
#include <mutex>

using namespace gatehouse::host;
using gatehouse::test::RegistryFixture;

namespace {

std::unique_ptr<registry::Registry> second_replica(RegistryFixture& f) {
  auto opened = registry::Registry::open(f.db, f.catalog, f.options);
  if (!opened) FAIL(opened.error().describe());
  return std::move(*opened);
}

std::optional<registry::RouteInfo> route_of(const registry::Registry& r, const std::string& group, const std::string& handler) {
  for (const auto& route : r.routes())
    if (route.target_group == group && route.handler == handler) return route;
  return std::nullopt;
}

}  // namespace

TEST_CASE("a replica's reconcile applies handlers, groups and routes changed through another", "[registry][replicas]") {
  RegistryFixture f("registry_replicas");
  auto b = second_replica(f);
  CHECK_FALSE(b->reconcile().value());  // nothing changed since it opened

  f.demo_handler("demo-a");
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  REQUIRE(f.registry->create_route({"projects", "demo-a", "", 100}).ok());
  CHECK_FALSE(b->handler("demo-a").has_value());

  REQUIRE(b->reconcile_if_changed().value());
  auto handler = b->handler("demo-a");
  REQUIRE(handler.has_value());
  CHECK(handler->incarnation == f.registry->handler("demo-a")->incarnation);
  CHECK(b->client("demo-a") != nullptr);  // an instance of its own
  CHECK(b->client("demo-a") != f.registry->client("demo-a"));
  REQUIRE(b->find_target_group("projects").has_value());
  auto route = route_of(*b, "projects", "demo-a");
  REQUIRE(route.has_value());
  CHECK(route->valid);
  CHECK(route->priority == 100);
  CHECK(b->routing().table->eligible("projects").size() == 1);

  SECTION("nothing changed: the periodic check costs one query and changes nothing") {
    const auto client = b->client("demo-a");
    CHECK_FALSE(b->reconcile_if_changed().value());
    CHECK_FALSE(b->reconcile().value());
    CHECK(b->client("demo-a") == client);  // the instance is kept
  }
  SECTION("a health check recorded by one replica is not a change for the other") {
    REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());
    CHECK_FALSE(b->reconcile_if_changed().value());
  }
  SECTION("a priority and a maximum duration changed through one reach the other") {
    REQUIRE(f.registry->set_route_priority("projects", "demo-a", "ProjectRole", 7).ok());
    REQUIRE(f.registry->set_target_group_max_duration("projects", std::chrono::minutes(5)).ok());
    REQUIRE(b->reconcile_if_changed().value());
    CHECK(route_of(*b, "projects", "demo-a")->priority == 7);
    CHECK(b->find_target_group("projects")->max_duration == std::chrono::minutes(5));
  }
  SECTION("a handler updated through one gets a new instance on the other") {
    const auto before = b->client("demo-a");
    REQUIRE(f.registry
                ->update_handler({"demo-a", "gatehouse/demo@1.0.0",
                                  {{"state_dir", f.state.path()}, {"token", "env:GATEHOUSE_TEST_DEMO_TOKEN"}, {"page_size", 3}}})
                .ok());
    REQUIRE(b->reconcile_if_changed().value());
    CHECK(b->handler("demo-a")->config["page_size"] == 3);
    CHECK(b->client("demo-a") != before);
    CHECK(b->handler("demo-a")->health == registry::HealthStatus::unknown);
  }
  SECTION("deletes through one reach the other, and its routing table forgets them") {
    REQUIRE(f.registry->delete_route("projects", "demo-a", "ProjectRole").ok());
    REQUIRE(b->reconcile().value());
    CHECK_FALSE(route_of(*b, "projects", "demo-a").has_value());
    CHECK(b->routing().table->eligible("projects").empty());

    REQUIRE(f.registry->delete_handler("demo-a").ok());
    REQUIRE(f.registry->delete_target_group("projects").ok());
    REQUIRE(b->reconcile_if_changed().value());
    CHECK_FALSE(b->handler("demo-a").has_value());
    CHECK(b->client("demo-a") == nullptr);
    CHECK_FALSE(b->find_target_group("projects").has_value());
  }
  SECTION("a handler deleted and created again under its id is a new handler for the other") {
    const auto incarnation = b->handler("demo-a")->incarnation;
    REQUIRE(f.registry->delete_handler("demo-a").ok());
    f.demo_handler("demo-a");
    REQUIRE(b->reconcile_if_changed().value());
    CHECK(b->handler("demo-a")->incarnation != incarnation);
    CHECK_FALSE(route_of(*b, "projects", "demo-a").has_value());  // the route went with the first one
  }
  SECTION("the other's own changes after a reconcile are kept by the next one") {
    REQUIRE(b->create_route({"projects", "demo-a", "Project", 5}).ok());
    CHECK_FALSE(b->reconcile().value());
    REQUIRE(route_of(*b, "projects", "demo-a").has_value());
    REQUIRE(f.registry->reconcile().value());
    CHECK(f.registry->routes().size() == 2);
  }
}

TEST_CASE("subscribers hear of every routing change, on the publisher's thread", "[registry][replicas]") {
  RegistryFixture f("registry_subscribe");
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t heard = 0;
  std::size_t candidates = 0;
  auto subscription = f.registry->subscribe([&](const grants::RoutingView& view) {
    std::lock_guard lock(mutex);
    ++heard;
    candidates = view.table->eligible("projects").size();
    cv.notify_all();
  });
  auto wait_for = [&](auto done) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(30), done);
  };
  f.demo_handler("demo-a");
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  REQUIRE(f.registry->create_route({"projects", "demo-a", "", 100}).ok());
  CHECK(wait_for([&] { return candidates == 1; }));
  std::size_t before;
  {
    std::lock_guard lock(mutex);
    before = heard;
  }
  REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());  // unknown → healthy: a new snapshot
  CHECK(wait_for([&] { return heard > before; }));

  subscription.reset();  // returns once no callback of it runs; none comes after
  std::size_t after_reset;
  {
    std::lock_guard lock(mutex);
    after_reset = heard;
  }
  REQUIRE(f.registry->delete_route("projects", "demo-a", "ProjectRole").ok());
  // The registry's own publisher thread has delivered everything it will once a new subscriber hears this one.
  std::atomic<bool> later{false};
  auto probe = f.registry->subscribe([&](const grants::RoutingView&) { later = true; });
  REQUIRE(f.registry->record_health("demo-a", false, "down").ok());
  while (!later) std::this_thread::yield();
  std::lock_guard lock(mutex);
  CHECK(heard == after_reset);
}

TEST_CASE("a change committed on the database wakes a listener on the control-plane channel", "[registry][replicas]") {
  RegistryFixture f("registry_listener");
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<store::WakeReason> reasons;
  store::NotificationListenerOptions options;
  options.channel = registry::kControlPlaneChannel;
  options.period = std::chrono::hours(1);  // no tick during the test: only the connection and the notification
  store::NotificationListener listener(f.db.connection_string(), options, [&](store::WakeReason reason) {
    std::lock_guard lock(mutex);
    reasons.push_back(reason);
    cv.notify_all();
  });
  REQUIRE(listener.start().ok());
  auto has = [&](store::WakeReason reason) { return std::find(reasons.begin(), reasons.end(), reason) != reasons.end(); };
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return has(store::WakeReason::connected); }));
  }
  f.demo_handler("demo-a");
  {
    std::unique_lock lock(mutex);
    CHECK(cv.wait_for(lock, std::chrono::seconds(30), [&] { return has(store::WakeReason::notified); }));
  }
  // A health write is not a control-plane change: it notifies nobody (the listener would hear it before the
  // route's notification that follows it on the same connection order).
  {
    std::lock_guard lock(mutex);
    reasons.clear();
  }
  REQUIRE(f.registry->record_health("demo-a", true, "ok").ok());
  REQUIRE(f.registry->create_target_group({"projects", "gatehouse/demo@1.0.0/ProjectRole", std::chrono::hours(1)}).ok());
  {
    std::unique_lock lock(mutex);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return has(store::WakeReason::notified); }));
    CHECK(reasons.size() == 1);
  }
  listener.stop();  // returns promptly: the thread waits on the socket and the stop fd together
  CHECK_FALSE(listener.listening());
}
