// Two gatehoused replicas on one database (issue 14 item 6): what an operator changes through one is what the
// other routes by, without a restart. Replica B's periodic reconcile is set to an hour, so within these tests
// only PostgreSQL's notifications (and the catch-up when its listening connection comes back) can tell it.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

using gatehouse::test::DaemonFixture;
using gatehouse::test::DaemonOptions;
using gatehouse::test::eventually;
using gatehouse::test::json_output;
using nlohmann::json;

namespace {

DaemonOptions replica_of(const DaemonFixture& first) {
  DaemonOptions options;
  options.database_url = first.database_url();
  options.extra_config = "replicas:\n  reconcile_interval_seconds: 3600\n";
  return options;
}

json list_of(const DaemonFixture& d, const std::vector<std::string>& args) {
  auto with_json = args;
  with_json.insert(with_json.end(), {"-o", "json"});
  return json_output(d.admin(with_json))["items"];
}

json route_on(const DaemonFixture& d) {
  const auto routes = list_of(d, {"route", "list"});
  return routes.empty() ? json() : routes[0];
}

}  // namespace

TEST_CASE("a change made through one replica is what the other routes by", "[daemon][replicas]") {
  DaemonFixture a("replicas_routing");
  DaemonFixture b("replicas_routing_b", replica_of(a));
  REQUIRE(list_of(b, {"handler", "list"}).empty());

  // Both replicas run the demo handler with A's state directory: the same row, so the same config.
  auto applied = a.admin({"apply", "-f", a.example_config()});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b).is_object() && route_on(b)["valid"] == true; }));
  auto handlers = list_of(b, {"handler", "list"});
  REQUIRE(handlers.size() == 1);
  CHECK(handlers[0]["id"] == "demo");
  CHECK(list_of(b, {"target-group", "list"})[0]["id"] == "projects");
  CHECK(route_on(b)["priority"] == 100);

  // A request made through B is routed by B's view of what A created, and is granted.
  auto requested = b.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                          "role=viewer", "--duration", "10m", "--reason", "replicas", "--wait", "--wait-seconds", "60"},
                         b.requester_token);
  INFO(requested.out << requested.err << b.log());
  REQUIRE(requested.exit_code == 0);
  CHECK_THAT(requested.out, Catch::Contains("is active until"));

  // A priority, a handler's settings and a group's longest grant changed through A reach B.
  REQUIRE(a.admin({"route", "set-priority", "projects", "demo", "7"}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b)["priority"] == 7; }));
  REQUIRE(a.admin({"handler", "update", "demo", "--backend", "demo-state-1"}).exit_code == 0);
  REQUIRE(eventually([&] { return list_of(b, {"handler", "list"})[0]["backend"] == "demo-state-1"; }));

  // A disabled route: B no longer routes to the handler, and a request through B waits as pending.
  REQUIRE(a.admin({"route", "set-priority", "projects", "demo", "0"}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b)["priority"] == 0; }));
  auto waiting = b.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                        "role=editor", "--duration", "10m", "--reason", "disabled", "-o", "json"},
                       b.requester_token);
  INFO(waiting.out << waiting.err);
  REQUIRE(waiting.exit_code == 0);
  const std::string pending_id = json::parse(waiting.out)["id"];
  REQUIRE(eventually([&] {
    const auto grant = gatehouse::test::grant_of(b, pending_id);
    return grant["status"] == "pending" && grant["last_error"].is_string() &&
           grant["last_error"].get<std::string>().find("no valid route") != std::string::npos;
  }));
  // Enabled again through A: the pending grant is granted (by whichever replica's engine claims it first).
  REQUIRE(a.admin({"route", "set-priority", "projects", "demo", "50"}).exit_code == 0);
  REQUIRE(eventually([&] { return gatehouse::test::grant_of(b, pending_id)["status"] == "active"; }));

  // Everything revoked and deleted through A: B forgets the route, the handler and the group.
  const json grants = json_output(a.admin({"grant", "list", "-o", "json"}))["items"];  // a copy: the list outlives its call
  for (const auto& grant : grants) {
    REQUIRE(a.admin({"grant", "revoke", grant["id"].get<std::string>(), "--reason", "done", "--wait", "--wait-seconds",
                     "60"})
                .exit_code == 0);
  }
  REQUIRE(a.admin({"route", "delete", "projects", "demo"}).exit_code == 0);
  REQUIRE(eventually([&] { return list_of(b, {"route", "list"}).empty(); }));
  REQUIRE(a.admin({"handler", "delete", "demo"}).exit_code == 0);
  REQUIRE(eventually([&] { return list_of(b, {"handler", "list"}).empty(); }));
  // (A group stays while grants name it, ended ones included: a second one shows a group's deletion.)
  REQUIRE(a.admin({"target-group", "create", "other", "--kind", "gatehouse/demo@1.0.0/ProjectRole"}).exit_code == 0);
  REQUIRE(eventually([&] { return list_of(b, {"target-group", "list"}).size() == 2; }));
  REQUIRE(a.admin({"target-group", "delete", "other"}).exit_code == 0);
  REQUIRE(eventually([&] { return list_of(b, {"target-group", "list"}).size() == 1; }));

  // B's own change reaches A the same way.
  REQUIRE(b.admin({"apply", "-f", a.example_config()}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(a).is_object() && route_on(a)["priority"] == 100; }));

  CHECK(b.stop() == 0);
  CHECK(a.stop() == 0);
}

TEST_CASE("a replica whose listening connection drops catches up when it is back", "[daemon][replicas]") {
  DaemonFixture a("replicas_reconnect");
  DaemonFixture b("replicas_reconnect_b", replica_of(a));
  REQUIRE(a.admin({"apply", "-f", a.example_config()}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b).is_object(); }));

  // The listening sessions are ended (as a failover or a network cut would); a change is made meanwhile.
  // Notifications sent while B is not listening are lost: B must reread the tables when it listens again.
  pqxx::connection admin(a.database_url());
  pqxx::nontransaction txn(admin);
  const auto ended = txn.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'");
  CHECK(ended.size() >= 2);  // one per replica
  REQUIRE(a.admin({"route", "set-priority", "projects", "demo", "9"}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b)["priority"] == 9; }));
  CHECK_THAT(b.log(), Catch::Contains("listening again"));
  // And B hears the next change by notification again.
  REQUIRE(a.admin({"route", "set-priority", "projects", "demo", "11"}).exit_code == 0);
  REQUIRE(eventually([&] { return route_on(b)["priority"] == 11; }));
}
