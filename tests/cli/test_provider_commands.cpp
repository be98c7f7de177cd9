// Drives the real `gatehouse` binary as an operator would and checks exit codes and what it prints.
#include "paths.hpp"
#include "run_process.hpp"
#include "schema/provider_schema.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using gatehouse::test::cli_path;
using gatehouse::test::demo_provider_path;
using gatehouse::test::fixture_path;
using gatehouse::test::run_process;
using gatehouse::test::TempDir;

TEST_CASE("gatehouse --help documents the exit codes", "[cli]") {
  auto help = run_process({cli_path(), "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Exit codes") && Catch::Contains("3  refused: invalid input, config or provider") &&
                              Catch::Contains("4  gatehoused is unreachable") && Catch::Contains("5  authentication"));
  auto provider_help = run_process({cli_path(), "provider", "--help"});
  CHECK(provider_help.exit_code == 0);
  CHECK_THAT(provider_help.out, Catch::Contains("inspect") && Catch::Contains("validate-config"));
}

TEST_CASE("usage errors exit 2 with a one-line reason", "[cli]") {
  CHECK(run_process({cli_path()}).exit_code == 2);
  auto unknown = run_process({cli_path(), "provider", "inspect"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("path is required"));
  CHECK(run_process({cli_path(), "provider", "inspect", demo_provider_path(), "--output", "yaml"}).exit_code == 2);
  CHECK(run_process({cli_path(), "frobnicate"}).exit_code == 2);
}

TEST_CASE("provider inspect shows what an operator needs", "[cli][demo]") {
  auto shown = run_process({cli_path(), "provider", "inspect", demo_provider_path()});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.err.empty());
  for (const char* expected : {"gatehouse/demo@1.0.0", "ABI", "1.0", "Config fields", "state_dir", "token", "secret",
                               "Resource types", "Group", "members -> User", "Loaders", "fetch_users",
                               "Target kinds", "ProjectRole", "id of resource Project", "one of viewer"}) {
    CHECK_THAT(shown.out, Catch::Contains(expected));
  }
}

TEST_CASE("provider inspect --output json prints a schema that passes the meta-schema", "[cli][demo][schema]") {
  auto shown = run_process({cli_path(), "provider", "inspect", demo_provider_path(), "--output", "json"});
  REQUIRE(shown.exit_code == 0);
  auto document = nlohmann::json::parse(shown.out);
  CHECK(document["meta"]["name"] == "demo");
  auto valid = gatehouse::host::validate_provider_schema(document);
  if (!valid) FAIL(valid.error().describe());
}

TEST_CASE("every broken provider is refused with exit 3 and its sentence", "[cli][fixtures]") {
  const std::pair<const char*, const char*> cases[] = {
      {"not_a_shared_object", "not an ELF shared object"},
      {"missing_entry_symbol", "does not export gatehouse_provider_v1"},
      {"abi_major_mismatch", "this host speaks ABI 1.0"},
      {"abi_minor_too_new", "this host only provides ABI 1.0"},
      {"bad_struct_size", "struct_size"},
      {"garbage_bytes", "not a valid Response message"},
      {"throws_through_abi", "exception escape"},
      {"schema_breaks_meta_schema", "/config/endpoint"},
      {"relation_to_undeclared_type", "/resources/types/Group/properties/data/members/relation"},
      {"missing_dependency", "cannot open shared object file"},
  };
  for (const auto& [mode, reason] : cases) {
    SECTION(mode) {
      auto refused = run_process({cli_path(), "provider", "inspect", fixture_path(mode)});
      CHECK(refused.exit_code == 3);  // refused, and the process exited normally (no signal)
      CHECK_THAT(refused.err, Catch::StartsWith("error: provider '" + fixture_path(mode) + "' refused"));
      CHECK_THAT(refused.err, Catch::Contains(reason));
      CHECK(refused.out.empty());
    }
  }
}

TEST_CASE("provider validate-config lists every fault with its path and never prints secrets", "[cli][demo]") {
  TempDir dir("gatehouse-cli");
  const std::string secret = "s3cr3t-token-value";

  SECTION("a literal secret is refused with exit 3, as gatehoused refuses it, and never printed") {
    auto config = dir.write("demo.yaml", "state_dir: " + dir.path() + "\ntoken: " + secret + "\n");
    auto checked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config});
    CHECK(checked.exit_code == 3);
    CHECK_THAT(checked.err, Catch::Contains("is not a valid config for gatehouse/demo@1.0.0 (1 fault)") &&
                                Catch::Contains("/config/token: secret given in clear"));
    CHECK_THAT(checked.out + checked.err, !Catch::Contains(secret));
  }
  SECTION("an env: reference is shown as the reference, and resolved only with --resolve") {
    auto config = dir.write("demo.json", R"({"state_dir": ")" + dir.path() + R"(", "token": "env:DEMO_TOKEN"})");
    auto checked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config},
                               {{"DEMO_TOKEN", secret}});
    CHECK(checked.exit_code == 0);
    CHECK_THAT(checked.out, Catch::Contains("token: env:DEMO_TOKEN") &&
                                Catch::Contains("not resolved: /config/token (env:DEMO_TOKEN)") &&
                                Catch::Contains("--resolve"));
    auto resolved = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config, "--resolve"},
                                {{"DEMO_TOKEN", secret}});
    CHECK(resolved.exit_code == 0);
    CHECK_THAT(resolved.out, Catch::Contains("resolved: /config/token (env:DEMO_TOKEN)") &&
                                 !Catch::Contains("not resolved"));
    CHECK_THAT(checked.out + checked.err + resolved.out + resolved.err, !Catch::Contains(secret));
  }
  SECTION("an env: reference to a variable unset here is not checked, unless --resolve asks: then a fault") {
    // gatehoused resolves references in its own environment: the CLI's says nothing about it.
    auto config = dir.write("demo.yaml", "state_dir: /tmp\ntoken: env:GATEHOUSE_TEST_UNSET_VARIABLE\n");
    auto unchecked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config});
    CHECK(unchecked.exit_code == 0);
    CHECK_THAT(unchecked.out, Catch::Contains("not resolved: /config/token (env:GATEHOUSE_TEST_UNSET_VARIABLE)"));
    auto checked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config, "--resolve"});
    CHECK(checked.exit_code == 3);
    CHECK_THAT(checked.err, Catch::Contains("/config/token") && Catch::Contains("GATEHOUSE_TEST_UNSET_VARIABLE"));
    auto missing_file = dir.write("file.yaml", "state_dir: /tmp\ntoken: file:" + dir.path() + "/no-such-secret\n");
    auto file_unchecked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), missing_file});
    CHECK(file_unchecked.exit_code == 0);
    CHECK_THAT(file_unchecked.out, Catch::Contains("not resolved: /config/token (file:"));
    auto file_checked =
        run_process({cli_path(), "provider", "validate-config", demo_provider_path(), missing_file, "--resolve"});
    CHECK(file_checked.exit_code == 3);
    CHECK_THAT(file_checked.err, Catch::Contains("/config/token") && Catch::Contains("no-such-secret"));
  }
  SECTION("several faults at once, each with its field path") {
    auto config = dir.write("bad.yaml", "token: " + secret + "\nstate_dri: /tmp\npage_size: lots\n");
    auto checked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config});
    CHECK(checked.exit_code == 3);
    CHECK_THAT(checked.err, Catch::Contains("is not a valid config for gatehouse/demo@1.0.0"));
    CHECK_THAT(checked.err, Catch::Contains("/config/state_dir") && Catch::Contains("/config/state_dri") &&
                                Catch::Contains("/config/page_size") && Catch::Contains("/config/token: secret given in clear") &&
                                Catch::Contains("(4 faults)"));
    CHECK_THAT(checked.out + checked.err, !Catch::Contains(secret));
  }
  SECTION("--output json reports faults for scripts") {
    auto config = dir.write("bad.yaml", "token: " + secret + "\n");
    auto checked = run_process(
        {cli_path(), "provider", "validate-config", demo_provider_path(), config, "--output", "json"});
    CHECK(checked.exit_code == 3);
    auto report = nlohmann::json::parse(checked.out);
    CHECK(report["valid"] == false);
    CHECK(report["faults"][0]["path"] == "/config/state_dir");
    CHECK(report["faults"][1]["path"] == "/config/token");
    CHECK_THAT(checked.out, !Catch::Contains(secret));
  }
  SECTION("a config file that cannot be parsed names the line") {
    auto config = dir.write("broken.yaml", "state_dir: /tmp\ntoken: [unclosed\n");
    auto checked = run_process({cli_path(), "provider", "validate-config", demo_provider_path(), config});
    CHECK(checked.exit_code == 3);
    CHECK_THAT(checked.err, Catch::Contains("broken.yaml") && Catch::Contains("line"));
  }
  SECTION("a refused provider exits 3 before the config is read") {
    auto config = dir.write("any.yaml", "a: 1\n");
    auto checked =
        run_process({cli_path(), "provider", "validate-config", fixture_path("abi_major_mismatch"), config});
    CHECK(checked.exit_code == 3);
    CHECK_THAT(checked.err, Catch::Contains("abi_major") || Catch::Contains("ABI 2.0"));
  }
}
