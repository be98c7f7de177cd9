// The inventory through the daemon: on-demand sync with the CLI, resources, a target group's options, and
// grant requests checked against what was loaded.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using gatehouse::test::DaemonFixture;
using nlohmann::json;

TEST_CASE("sync a handler's inventory, browse it, and have requests checked against it", "[daemon][inventory]") {
  gatehouse::test::DaemonOptions options;
  options.extra_config = "inventory:\n  interval_seconds: 0\n";  // on demand only: the test decides when
  DaemonFixture d("daemon_inventory", options);
  REQUIRE(d.admin({"apply", "-f", d.example_config()}).exit_code == 0);
  REQUIRE(d.admin({"handler", "check", "demo"}).exit_code == 0);

  // Before any sync nothing is known, so project names are not checked yet.
  auto empty = d.admin({"target-group", "options", "projects"});
  REQUIRE(empty.exit_code == 0);
  CHECK_THAT(empty.out, Catch::Contains("none yet") && Catch::Contains("one of viewer, editor, admin"));

  auto synced = d.admin({"sync", "run", "--handler", "demo"});
  INFO(synced.out << synced.err);
  REQUIRE(synced.exit_code == 0);
  CHECK_THAT(synced.out, Catch::Contains("of handler demo: succeeded") && Catch::Contains("resources seen"));
  auto again = d.admin({"sync", "run", "--handler", "nope"});
  CHECK(again.exit_code == 6);

  auto runs = json::parse(d.admin({"sync", "list", "-o", "json"}).out);
  REQUIRE(runs["items"].size() == 1);
  CHECK(runs["items"][0]["status"] == "succeeded");

  auto projects = json::parse(d.admin({"resource", "list", "--type", "Project", "-o", "json"}).out);
  REQUIRE(projects["resources"].size() == 2);
  CHECK(projects["resources"][0]["id"] == "apollo");
  auto shown = d.admin({"resource", "show", "demo", "Project", "apollo"});
  CHECK(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains("Apollo"));
  CHECK(d.admin({"resource", "show", "demo", "Project", "nope"}).exit_code == 6);

  auto options_after = d.cli({"target-group", "options", "projects", "-o", "json"}, d.requester_token);
  REQUIRE(options_after.exit_code == 0);
  auto values = json::parse(options_after.out)["properties"]["project"]["values"];
  REQUIRE(values.size() == 2);
  CHECK(values[0]["id"] == "apollo");

  auto unknown = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=atlantis", "--target",
                        "role=viewer", "--duration", "5m"},
                       d.requester_token);
  CHECK(unknown.exit_code == 3);
  CHECK_THAT(unknown.err, Catch::Contains("/target/project") && Catch::Contains("no Project 'atlantis'"));
  auto known = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                      "role=viewer", "--duration", "5m"},
                     d.requester_token);
  INFO(known.err);
  CHECK(known.exit_code == 0);

  // Requesters may see options but not the inventory itself, nor start syncs.
  CHECK(d.cli({"resource", "list"}, d.requester_token).exit_code == 5);
  CHECK(d.cli({"sync", "run", "--handler", "demo"}, d.requester_token).exit_code == 5);
}
