// The README's walk-through, automated: the real gatehoused on a real PostgreSQL, driven by the real CLI.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::json_output;
using nlohmann::json;

namespace {

// Polls `gatehouse grant show` until the grant reaches `status`.
json wait_for_status(DaemonFixture& d, const std::string& id, const std::string& status) {
  json grant;
  for (int i = 0; i < 300; ++i) {
    grant = json_output(d.admin({"grant", "show", id, "-o", "json"}));
    if (grant["status"] == status) return grant;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("grant " << id << " never became " << status << "; last seen: " << grant.dump(2));
  return grant;
}

}  // namespace

TEST_CASE("a newcomer's first grant: apply, request, active, revoke, history, audit, metrics", "[daemon][e2e]") {
  DaemonFixture d("e2e_first_grant");
  const std::string example = d.example_config();

  auto plan = d.admin({"apply", "-f", example, "--dry-run"});
  INFO(plan.err);
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.out, Catch::Contains("create") && Catch::Contains("handler/demo") &&
                           Catch::Contains("target_group/projects") && Catch::Contains("3 changes would be made"));
  CHECK(json_output(d.admin({"handler", "list", "-o", "json"}))["items"].empty());  // a dry run changes nothing

  auto applied = d.admin({"apply", "-f", example});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  CHECK_THAT(applied.out, Catch::Contains("3 changes applied"));
  auto again = d.admin({"apply", "-f", example});
  REQUIRE(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("unchanged") && Catch::Contains("0 changes applied"));

  // The handler is checked at once; the first grant waits for it if it is not healthy yet.
  auto requested = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                          "role=viewer", "--duration", "10m", "--reason", "debugging", "--wait", "--wait-seconds", "60"},
                         d.requester_token);
  INFO(requested.out << requested.err << d.log());
  REQUIRE(requested.exit_code == 0);
  CHECK_THAT(requested.out, Catch::Contains("is active until"));

  auto listed = json_output(d.cli({"grant", "list", "-o", "json"}, d.requester_token));
  REQUIRE(listed["items"].size() == 1);
  const std::string id = listed["items"][0]["id"];
  CHECK(listed["items"][0]["subject"] == "alice@example.com");
  CHECK(listed["items"][0]["handler"] == "demo");
  CHECK(std::filesystem::exists(d.dir.path() + "/demo-state/grants/" + id + ".json"));

  auto table = d.admin({"grant", "list"});
  CHECK_THAT(table.out, Catch::Contains("SUBJECT") && Catch::Contains("alice@example.com") && Catch::Contains("active"));

  auto revoked = d.cli({"grant", "revoke", id, "--reason", "done"}, d.requester_token);
  INFO(revoked.err);
  REQUIRE(revoked.exit_code == 0);
  auto ended = wait_for_status(d, id, "revoked");
  CHECK_FALSE(std::filesystem::exists(d.dir.path() + "/demo-state/grants/" + id + ".json"));
  std::vector<std::string> path;
  for (const auto& h : ended["history"])
    if (!h["note"].get<bool>()) path.push_back(h["to"]);
  CHECK(path == std::vector<std::string>{"pending", "active", "revoking", "revoked"});

  auto shown = d.admin({"grant", "show", id});
  CHECK_THAT(shown.out, Catch::Contains("History") && Catch::Contains("revoked") && Catch::Contains("granted by handler 'demo'"));

  auto audit = json_output(d.cli({"audit", "list", "-o", "json", "--limit", "200"}, d.auditor_token));
  std::vector<std::string> actions;
  for (const auto& e : audit["items"]) actions.push_back(e["actor"].get<std::string>() + " " + e["action"].get<std::string>());
  auto has = [&](const std::string& entry) { return std::find(actions.begin(), actions.end(), entry) != actions.end(); };
  CHECK(has("admin apply"));
  CHECK(has("alice grant.request"));
  CHECK(has("alice grant.revoke"));
  CHECK(has("alice grant.pending"));
  CHECK(has("engine:test-e2e_first_grant grant.active"));
  CHECK(has("engine:test-e2e_first_grant grant.revoked"));

  auto metrics = d.call("GET", "/metrics", d.auditor_token);
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("gatehouse_grants{state=\"revoked\"} 1") &&
                               Catch::Contains("gatehouse_handler_healthy{handler=\"demo\"} 1") &&
                               Catch::Contains("gatehouse_http_request_duration_seconds_bucket{route=\"/v1/grants\"") &&
                               Catch::Contains("gatehouse_routing_failovers_total"));
  // Secrets never leave: the handler config shows the reference, the log never the value.
  auto handler = json_output(d.admin({"handler", "show", "demo", "-o", "json"}));
  CHECK(handler["config"]["token"] == "env:DEMO_TOKEN");
  CHECK(d.log().find(d.env["DEMO_TOKEN"]) == std::string::npos);
  CHECK(d.log().find(d.admin_token) == std::string::npos);

  CHECK(d.stop() == 0);
  CHECK_THAT(d.log(), Catch::Contains("shutting down") && Catch::Contains("gatehoused stopped"));
}

TEST_CASE("operators manage handlers, target groups and routes with the CLI", "[daemon][cli]") {
  DaemonFixture d("e2e_cli_verbs");
  const std::string config = d.dir.write("demo.yaml", "state_dir: " + d.dir.path() + "/demo-state\ntoken: env:DEMO_TOKEN\n");

  auto created = d.admin({"handler", "create", "demo-a", "--provider", "gatehouse/demo@1.0.0", "--config", config});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  auto duplicate = d.admin({"handler", "create", "demo-a", "--provider", "gatehouse/demo@1.0.0", "--config", config});
  CHECK(duplicate.exit_code == 3);
  CHECK_THAT(duplicate.err, Catch::Contains("already exists"));

  auto bad = d.dir.write("bad.yaml", "state_dir: 42\ntoken: literal-secret\n");
  auto refused = d.admin({"handler", "create", "demo-b", "--provider", "gatehouse/demo@1.0.0", "--config", bad});
  CHECK(refused.exit_code == 3);
  CHECK_THAT(refused.err, Catch::Contains("/state_dir"));
  CHECK(refused.err.find("literal-secret") == std::string::npos);

  REQUIRE(d.admin({"target-group", "create", "projects", "--kind", "gatehouse/demo@1.0.0/ProjectRole", "--max-duration", "2h"})
              .exit_code == 0);
  REQUIRE(d.admin({"route", "create", "--target-group", "projects", "--handler", "demo-a", "--priority", "50"}).exit_code == 0);
  auto routes = json_output(d.admin({"route", "list", "-o", "json"}));
  REQUIRE(routes["items"].size() == 1);
  CHECK(routes["items"][0]["valid"] == true);
  CHECK(routes["items"][0]["priority"] == 50);
  REQUIRE(d.admin({"route", "set-priority", "projects", "demo-a", "0"}).exit_code == 0);
  CHECK(json_output(d.admin({"route", "list", "-o", "json"}))["items"][0]["priority"] == 0);

  auto check = d.admin({"handler", "check", "demo-a"});
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("healthy"));
  auto shown = d.admin({"target-group", "show", "projects"});
  CHECK_THAT(shown.out, Catch::Contains("project") && Catch::Contains("one of") && Catch::Contains("2h"));
  auto providers = d.admin({"provider", "list"});
  CHECK_THAT(providers.out, Catch::Contains("gatehouse/demo@1.0.0") && Catch::Contains("acme/hello@0.1.0"));
  auto provider = d.admin({"provider", "inspect", "gatehouse/demo@1.0.0"});
  CHECK(provider.exit_code == 0);
  CHECK_THAT(provider.out, Catch::Contains("ProjectRole"));

  auto missing = d.admin({"handler", "show", "nope"});
  CHECK(missing.exit_code == 6);
  CHECK_THAT(missing.err, Catch::Contains("no handler 'nope'"));

  // A grant too long for the group is refused with the field path.
  REQUIRE(d.admin({"route", "set-priority", "projects", "demo-a", "10"}).exit_code == 0);
  auto too_long = d.admin({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                           "role=viewer", "--duration", "3h", "--subject", "carol@example.com"});
  CHECK(too_long.exit_code == 3);
  CHECK_THAT(too_long.err, Catch::Contains("/duration"));

  REQUIRE(d.admin({"route", "delete", "projects", "demo-a"}).exit_code == 0);
  REQUIRE(d.admin({"handler", "delete", "demo-a"}).exit_code == 0);
  CHECK(json_output(d.admin({"handler", "list", "-o", "json"}))["items"].empty());
  auto audit = d.admin({"audit", "list", "--action", "handler."});
  CHECK_THAT(audit.out, Catch::Contains("handler.create") && Catch::Contains("handler.delete") &&
                            Catch::Contains("already_exists") && Catch::Contains("config_invalid"));
}

TEST_CASE("the CLI says clearly when the daemon is unreachable or the token is wrong", "[daemon][cli]") {
  DaemonFixture d("e2e_cli_errors");
  auto unreachable = gatehouse::test::run_process(
      {gatehouse::test::gatehouse_cli_path(), "handler", "list", "--server", "http://127.0.0.1:1"}, {{"GATEHOUSE_TOKEN", "x"}});
  CHECK(unreachable.exit_code == 4);
  CHECK_THAT(unreachable.err, Catch::Contains("cannot reach gatehoused at http://127.0.0.1:1"));

  auto no_token = d.cli({"handler", "list"}, "");
  CHECK(no_token.exit_code == 5);
  CHECK_THAT(no_token.err, Catch::Contains("needs a bearer token") && Catch::Contains("GATEHOUSE_TOKEN"));
  auto wrong = d.cli({"handler", "list"}, "gh_not_a_token");
  CHECK(wrong.exit_code == 5);
  CHECK_THAT(wrong.err, Catch::Contains("not valid"));
  auto role = d.cli({"handler", "delete", "x"}, d.auditor_token);
  CHECK(role.exit_code == 5);
  CHECK_THAT(role.err, Catch::Contains("role auditor"));
  auto usage = d.admin({"grant", "request", "--target-group", "x"});
  CHECK(usage.exit_code == 2);
}
