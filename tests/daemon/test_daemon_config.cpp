// gatehoused's config file and its helper verbs, through the real binary.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>

using gatehouse::test::gatehoused_path;
using gatehouse::test::run_process;
using gatehouse::test::TempDir;

TEST_CASE("an invalid config is refused with every fault's path, before anything starts", "[daemon][config]") {
  TempDir dir;
  const auto file = dir.write("bad.yaml",
                              "listen: everywhere\n"
                              "health:\n  interval_seconds: 0\n"
                              "api:\n  tokens:\n    - {name: ops, role: root, sha256: abc}\n"
                              "databse:\n  url: x\n");
  auto r = run_process({gatehoused_path(), "--config", file});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("bad.yaml") && Catch::Contains("/listen") && Catch::Contains("/health/interval_seconds") &&
                        Catch::Contains("/api/tokens/0/role") && Catch::Contains("/api/tokens/0/sha256") &&
                        Catch::Contains("/databse"));
  auto check = run_process({gatehoused_path(), "check-config", "--config", file});
  CHECK(check.exit_code == 3);

  auto unparsable = dir.write("broken.yaml", "listen: [\n");
  auto p = run_process({gatehoused_path(), "--config", unparsable});
  CHECK(p.exit_code == 3);
  CHECK_THAT(p.err, Catch::Contains("line"));

  auto missing_env = dir.write("env.yaml", "database:\n  url: env:GATEHOUSE_TEST_SURELY_UNSET\n");
  auto m = run_process({gatehoused_path(), "check-config", "--config", missing_env});
  CHECK(m.exit_code == 3);
  CHECK_THAT(m.err, Catch::Contains("GATEHOUSE_TEST_SURELY_UNSET") && Catch::Contains("/database/url"));
}

TEST_CASE("check-config reports every fault of every section at once, and counts what it lists", "[daemon][config]") {
  TempDir dir;
  // Faults the schema finds beside faults only the daemon finds (a port above 65535, an unresolvable reference,
  // a token name used twice): all in one run, none hidden behind another section's.
  const auto file = dir.write("many.yaml",
                              "listen: 0.0.0.0:99999\n"
                              "health:\n  interval_seconds: 0\n"
                              "database:\n  url: env:GATEHOUSE_TEST_SURELY_UNSET\n"
                              "api:\n  tokens:\n"
                              "    - {name: ops, role: root, sha256: abc}\n"
                              "    - {name: ops, role: admin, sha256: \"" + std::string(64, 'a') + "\"}\n"
                              "databse:\n  url: x\n");
  auto r = run_process({gatehoused_path(), "check-config", "--config", file});
  INFO(r.err);
  CHECK(r.exit_code == 3);
  for (const char* path : {"/listen: port 99999 is out of range", "/health/interval_seconds", "/database/url",
                           "/api/tokens/0/role", "/api/tokens/0/sha256", "/api/tokens/1/name: token name is used twice",
                           "/databse"})
    CHECK_THAT(r.err, Catch::Contains(path));
  CHECK_THAT(r.err, Catch::Contains("GATEHOUSE_TEST_SURELY_UNSET"));
  // "N faults" is the number of fault lines under it.
  std::size_t listed = 0;
  for (std::size_t at = r.err.find("\n  /"); at != std::string::npos; at = r.err.find("\n  /", at + 1)) ++listed;
  CHECK(listed == 7);
  CHECK_THAT(r.err, Catch::Contains("the gatehoused config is invalid: " + std::to_string(listed) + " faults"));

  // The port alone, where the schema finds nothing: still reported, with the count.
  auto port_only = dir.write("port.yaml", "listen: 0.0.0.0:99999\n");
  auto p = run_process({gatehoused_path(), "check-config", "--config", port_only});
  CHECK(p.exit_code == 3);
  CHECK_THAT(p.err, Catch::Contains("invalid: 1 fault\n  /listen: port 99999 is out of range"));
}

TEST_CASE("the packaged example config is valid", "[daemon][config]") {
  auto r = run_process({gatehoused_path(), "check-config", "--config",
                        std::string(GATEHOUSE_SOURCE_DIR) + "/packaging/examples/gatehoused.yaml"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("valid") && Catch::Contains("127.0.0.1:8470"));
}

TEST_CASE("gatehoused token new prints a token once and only its digest for the config", "[daemon][config]") {
  auto r = run_process({gatehoused_path(), "token", "new", "--name", "ops", "--role", "auditor"});
  REQUIRE(r.exit_code == 0);
  const auto token_at = r.out.find("token: gh_");
  REQUIRE(token_at != std::string::npos);
  const std::string token = r.out.substr(token_at + 7, 67);
  CHECK_THAT(r.out, Catch::Contains("role: auditor") && Catch::Contains("sha256: "));
  // The entry it prints is accepted by the daemon's config schema.
  TempDir dir;
  const auto entry = r.out.substr(r.out.find("- name:"));
  std::string indented;
  for (std::size_t start = 0; start < entry.size();) {
    auto end = entry.find('\n', start);
    indented += "    " + entry.substr(start, end - start) + "\n";
    start = end == std::string::npos ? entry.size() : end + 1;
  }
  auto file = dir.write("tokens.yaml", "api:\n  tokens:\n" + indented);
  auto check = run_process({gatehoused_path(), "check-config", "--config", file});
  INFO(indented << check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.out, Catch::Contains("1 API tokens"));
  auto bad_role = run_process({gatehoused_path(), "token", "new", "--name", "x", "--role", "root"});
  CHECK(bad_role.exit_code == 2);
}

TEST_CASE("SIGTERM stops gatehoused cleanly, and it starts again on the same database", "[daemon][lifecycle]") {
  gatehouse::test::DaemonFixture d("daemon_restart");
  REQUIRE(d.call("POST", "/v1/target-groups", d.admin_token, R"({"id":"keep","kind":"gatehouse/demo@1.0.0/ProjectRole"})")
              .status == 201);
  CHECK(d.stop() == 0);
  CHECK_THAT(d.log(), Catch::Contains("received SIGTERM") && Catch::Contains("gatehoused stopped"));
  d.start();
  auto r = d.call("GET", "/v1/target-groups/keep", d.admin_token);
  CHECK(r.status == 200);
  CHECK(d.stop() == 0);
}
