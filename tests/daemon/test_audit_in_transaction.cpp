// A change and its audit row commit together (issue 14 item 2), through the real daemon: while PostgreSQL
// refuses the callers' audit rows, nothing they ask for is changed; once it accepts them again, every change
// has exactly one row, an apply one row per change it made.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

using gatehouse::test::DaemonFixture;
using gatehouse::test::json_output;
using nlohmann::json;

namespace {

long long count(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  return txn.exec1(sql)[0].as<long long>();
}

void exec(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  txn.exec(sql);
}

}  // namespace

TEST_CASE("a change whose audit row cannot be written is not made", "[daemon][audit]") {
  DaemonFixture d("audit_in_transaction");
  pqxx::connection db(d.database_url());
  REQUIRE(d.admin({"apply", "-f", d.example_config()}).exit_code == 0);
  gatehouse::test::require_healthy(d, "demo");

  const std::string callers = "SELECT count(*) FROM audit_log WHERE actor IN ('admin', 'alice')";
  const long long rows_at_first = count(db, callers);
  // The callers' rows are refused (and so the grant history rows a caller's request writes through a trigger).
  exec(db,
       "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
       "$$BEGIN RAISE EXCEPTION 'audit rows are refused for this test'; END$$;"
       "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW "
       "WHEN (NEW.actor IN ('admin', 'alice')) EXECUTE FUNCTION refuse_audit()");
  const std::string config = d.dir.write("demo.yaml", "state_dir: " + d.dir.path() + "/demo-state\ntoken: env:DEMO_TOKEN\n");

  auto created = d.admin({"handler", "create", "demo-b", "--provider", "gatehouse/demo@1.0.0", "--config", config});
  CHECK(created.exit_code != 0);
  CHECK(count(db, "SELECT count(*) FROM handlers WHERE id = 'demo-b'") == 0);
  CHECK_FALSE(d.admin({"handler", "show", "demo-b"}).exit_code == 0);

  CHECK(d.admin({"route", "set-priority", "projects", "demo", "5"}).exit_code != 0);
  CHECK(count(db, "SELECT priority FROM routes WHERE handler_id = 'demo'") == 100);
  CHECK(json_output(d.admin({"route", "list", "-o", "json"}))["items"][0]["priority"] == 100);

  CHECK(d.admin({"route", "delete", "projects", "demo"}).exit_code != 0);
  CHECK(d.admin({"handler", "delete", "demo"}).exit_code != 0);
  CHECK(count(db, "SELECT count(*) FROM routes") == 1);
  CHECK(json_output(d.admin({"handler", "list", "-o", "json"}))["items"].size() == 1);

  auto requested = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                          "role=viewer", "--duration", "10m", "--reason", "refused"},
                         d.requester_token);
  CHECK(requested.exit_code != 0);
  CHECK(count(db, "SELECT count(*) FROM grants") == 0);

  auto changed = d.dir.write("changed.yaml", R"(
routes:
  - target_group: projects
    handler: demo
    priority: 60
)");
  CHECK(d.admin({"apply", "-f", changed}).exit_code != 0);
  CHECK(count(db, "SELECT priority FROM routes WHERE handler_id = 'demo'") == 100);
  CHECK(count(db, callers) == rows_at_first);

  // Accepted again: each change has its one row, written with it.
  exec(db, "DROP TRIGGER refuse_audit ON audit_log");
  const std::string calls =
      "SELECT count(*) FROM audit_log WHERE action IN ('apply', 'route.update', 'grant.request', 'grant.revoke', "
      "'handler.delete')";
  const long long calls_before = count(db, calls);
  REQUIRE(d.admin({"apply", "-f", changed}).exit_code == 0);
  CHECK(count(db, "SELECT priority FROM routes WHERE handler_id = 'demo'") == 60);
  CHECK(count(db,
              "SELECT count(*) FROM audit_log WHERE actor = 'admin' AND action = 'route.update' AND "
              "object = 'route/projects/demo/ProjectRole' AND outcome = 'ok' AND details->>'via' = 'apply' AND "
              "details->>'detail' = 'priority 100 → 60'") == 1);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE actor = 'admin' AND action = 'apply' AND outcome = 'ok'") == 2);

  auto granted = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                        "role=viewer", "--duration", "10m", "--reason", "accepted", "-o", "json"},
                       d.requester_token);
  INFO(granted.out << granted.err);
  REQUIRE(granted.exit_code == 0);
  const std::string id = json::parse(granted.out)["id"];
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND action = 'grant.request' AND object = "
                  "'grant/" + id + "' AND outcome = 'ok' AND details->>'reason' = 'accepted'") == 1);
  REQUIRE(d.cli({"grant", "revoke", id, "--reason", "done"}, d.requester_token).exit_code == 0);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND action = 'grant.revoke' AND object = "
                  "'grant/" + id + "' AND outcome = 'ok'") == 1);
  // A refusal is still recorded, on its own: nothing was changed for it to go with.
  CHECK(d.admin({"handler", "delete", "nope"}).exit_code != 0);
  CHECK(count(db, "SELECT count(*) FROM audit_log WHERE action = 'handler.delete' AND object = 'handler/nope' AND "
                  "outcome = 'not_found'") == 1);
  CHECK(count(db, calls) == calls_before + 5);  // apply and its one change, request, revoke, the refusal
}
