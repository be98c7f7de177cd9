// A dry run checks what the real run checks (issue 13 item 4): `gatehouse apply --dry-run` and
// `POST /v1/apply?dry_run=true` refuse every file the real apply refuses — a literal secret, a NUL, an env:
// reference gatehoused cannot resolve, a config the provider's constructor refuses, a route to nothing — with the
// same answer, the same faults and the same exit code (3), before anything is created; and a file the real apply
// takes is planned by the dry run with nothing created. Real gatehoused and CLI over loopback, real PostgreSQL.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using gatehouse::test::DaemonFixture;
using gatehouse::test::DaemonOptions;
using nlohmann::json;

namespace {

// One demo handler (id `h`), one group, one route, with `config` as the handler's config (JSON text).
std::string document(const std::string& config, const std::string& route_handler = "h") {
  return R"({"handlers":[{"id":"h","provider":"gatehouse/demo@1.0.0","config":)" + config +
         R"(}],"target_groups":[{"id":"g","kind":"gatehouse/demo@1.0.0/ProjectRole","max_duration":"1h"}],)"
         R"("routes":[{"target_group":"g","handler":")" + route_handler + R"(","priority":100}]})";
}

std::string demo_config(const DaemonFixture& d, const std::string& token) {
  return R"({"state_dir":")" + d.dir.path() + R"(/demo-state","token":)" + json(token).dump() + "}";
}

// Nothing the file names exists after a refusal.
void check_nothing_created(const DaemonFixture& d) {
  CHECK(d.call("GET", "/v1/handlers/h", d.admin_token).status == 404);
  CHECK(d.call("GET", "/v1/target-groups/g", d.admin_token).status == 404);
  CHECK(json::parse(d.call("GET", "/v1/routes", d.admin_token).body)["items"].empty());
}

// The dry run and the real run of `body` answer the same refusal, over HTTP and through the CLI.
// `cli_refuses_first`: the CLI itself refuses the file before sending it (text gatehouse cannot store), as it
// does for a real run.
void check_same_refusal(const DaemonFixture& d, const std::string& body, const std::string& path,
                        const std::string& reason, bool cli_refuses_first = false) {
  auto dry = d.call("POST", "/v1/apply?dry_run=true", d.admin_token, body);
  auto real = d.call("POST", "/v1/apply", d.admin_token, body);
  INFO("dry run: " << dry.status << " " << dry.body << "\nreal run: " << real.status << " " << real.body);
  CHECK(dry.status == 400);
  CHECK(real.status == dry.status);
  CHECK(real.body == dry.body);
  CHECK_THAT(dry.body, Catch::Contains(path) && Catch::Contains(reason));
  check_nothing_created(d);

  const std::string file = d.dir.write("apply.json", body);
  auto cli_dry = d.admin({"apply", "-f", file, "--dry-run"});
  auto cli_real = d.admin({"apply", "-f", file});
  INFO("CLI dry run: " << cli_dry.exit_code << "\n" << cli_dry.out << cli_dry.err << "\nCLI real run: "
                       << cli_real.exit_code << "\n" << cli_real.out << cli_real.err);
  CHECK(cli_dry.exit_code == 3);
  CHECK(cli_real.exit_code == 3);
  CHECK_THAT(cli_dry.out, !Catch::Contains("would be made"));
  CHECK(cli_dry.err == cli_real.err);
  CHECK_THAT(cli_dry.err, Catch::Contains(path) && Catch::Contains(reason));
  if (!cli_refuses_first) CHECK_THAT(cli_dry.err, Catch::Contains("nothing was changed"));
  check_nothing_created(d);
}

}  // namespace

TEST_CASE("a dry run refuses what the real apply refuses, with the same faults and exit code 3", "[daemon][apply]") {
  DaemonOptions options;
  options.start = false;
  DaemonFixture d("dry_run_parity", options);
  d.env["DRY_RUN_SHORT_TOKEN"] = "short";  // the demo provider wants at least 8 characters: its constructor says so
  d.start();
  const std::string secret = "literal-secret-value-1234";

  SECTION("a literal secret") {
    check_same_refusal(d, document(demo_config(d, secret)), "/handlers/0/config/token", "secret given in clear");
    CHECK_THAT(d.log(), !Catch::Contains(secret));
  }
  SECTION("an env: reference gatehoused cannot resolve") {
    check_same_refusal(d, document(demo_config(d, "env:GATEHOUSE_DRY_RUN_SURELY_UNSET")), "/handlers/0/config/token",
                       "GATEHOUSE_DRY_RUN_SURELY_UNSET");
  }
  SECTION("a missing file: reference") {
    check_same_refusal(d, document(demo_config(d, "file:" + d.dir.path() + "/no-such-secret")),
                       "/handlers/0/config/token", "no-such-secret");
  }
  SECTION("a config the provider refuses when it builds the instance") {
    check_same_refusal(d, document(demo_config(d, "env:DRY_RUN_SHORT_TOKEN")), "/handlers/0",
                       "at least 8 characters");
  }
  SECTION("a config the provider's schema refuses") {
    check_same_refusal(d, document(R"({"token":"env:DEMO_TOKEN","state_dri":"/tmp"})"), "/handlers/0/config/state_dri",
                       "state_dir");
  }
  SECTION("a NUL in a config value") {
    check_same_refusal(d, document(R"({"state_dir":"/tmp/a\u0000b","token":"env:DEMO_TOKEN"})"),
                       "/handlers/0/config/state_dir", "NUL", true);
  }
  SECTION("a route to a handler that neither exists nor is created by the file") {
    check_same_refusal(d, document(demo_config(d, "env:DEMO_TOKEN"), "nobody"), "/routes/0/handler",
                       "handler 'nobody' does not exist");
  }
}

TEST_CASE("a dry run of a file the real apply takes plans it and creates nothing", "[daemon][apply]") {
  DaemonFixture d("dry_run_plan");
  const std::string file = d.dir.write("apply.json", document(demo_config(d, "env:DEMO_TOKEN")));
  auto dry = d.admin({"apply", "-f", file, "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("dry run: 3 changes would be made") && Catch::Contains("handler/h") &&
                          Catch::Contains("target_group/g") && Catch::Contains("route/g/h/ProjectRole"));
  check_nothing_created(d);
  auto real = d.admin({"apply", "-f", file});
  INFO(real.out << real.err);
  CHECK(real.exit_code == 0);
  CHECK_THAT(real.out, Catch::Contains("3 changes applied"));
  CHECK(d.call("GET", "/v1/handlers/h", d.admin_token).status == 200);
  // A second dry run sees nothing to change; an update is checked like a create.
  auto again = d.admin({"apply", "-f", file, "--dry-run"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("dry run: 0 changes would be made"));
  const std::string literal = d.dir.write("literal.json", document(demo_config(d, "literal-secret-value-1234")));
  auto update = d.admin({"apply", "-f", literal, "--dry-run"});
  CHECK(update.exit_code == 3);
  CHECK_THAT(update.err, Catch::Contains("/handlers/0/config/token") && Catch::Contains("secret given in clear"));
  auto stored = json::parse(d.call("GET", "/v1/handlers/h", d.admin_token).body);
  CHECK(stored["config"]["token"] == "env:DEMO_TOKEN");
}
