// Secret rotation: a file: secret changed on disk takes effect at the next health check (the instance is
// re-created), and `gatehouse handler update` / PATCH /v1/handlers/{id} change a handler's config in place,
// keeping its routes and grants. The real gatehoused and CLI, a real demo handler, in process and isolated.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::json_output;
using nlohmann::json;

namespace {

void write_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(temporary, path);  // a reader sees the old file or the new one, never half of one
}

// Polls `handler show` until `accept` holds (the daemon checks every 2 s); the last state seen when not.
json wait_for_handler(DaemonFixture& d, const std::string& id, const std::function<bool(const json&)>& accept) {
  json handler;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    handler = json_output(d.admin({"handler", "show", id, "-o", "json"}));
    if (accept(handler)) return handler;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("handler " << id << " never reached the expected state; last seen: " << handler.dump(2) << "\n" << d.log());
  return handler;
}

bool reason_contains(const json& h, const std::string& text) {
  return h["health"]["reason"].is_string() && h["health"]["reason"].get<std::string>().find(text) != std::string::npos;
}

std::string request_grant(DaemonFixture& d, const std::string& project) {
  auto requested = d.cli({"grant", "request", "--target-group", "projects", "--target", "project=" + project, "--target",
                          "role=viewer", "--duration", "10m", "--reason", "rotation test", "--wait", "--wait-seconds",
                          "60", "-o", "json"},
                         d.requester_token);
  INFO(requested.out << requested.err << d.log());
  REQUIRE(requested.exit_code == 0);
  const json grant = json::parse(requested.out);
  CHECK(grant["status"] == "active");
  return grant["id"];
}

}  // namespace

TEST_CASE("a file: secret changed on disk is picked up at the next health check", "[daemon][rotation]") {
  const std::string isolation = GENERATE(as<std::string>{}, "in_process", "process");
  DYNAMIC_SECTION("isolation " << isolation) {
    DaemonFixture d("rotation_file_" + isolation);
    const std::string token_file = d.dir.path() + "/demo-token";
    const std::string first = "first-demo-token-0001", second = "second-demo-token-0002";
    write_file(token_file, first + "\n");
    const std::string config =
        d.dir.write("h.yaml", "state_dir: " + d.dir.path() + "/demo-state\ntoken: file:" + token_file + "\n");
    REQUIRE(d.admin({"handler", "create", "rot", "--provider", "gatehouse/demo@1.0.0", "--config", config,
                     "--isolation", isolation})
                .exit_code == 0);
    REQUIRE(d.admin({"target-group", "create", "projects", "--kind", "gatehouse/demo@1.0.0/ProjectRole"}).exit_code == 0);
    REQUIRE(d.admin({"route", "create", "--target-group", "projects", "--handler", "rot", "--priority", "10"}).exit_code == 0);
    wait_for_handler(d, "rot", [](const json& h) { return h["health"]["status"] == "healthy"; });
    const std::string before = request_grant(d, "apollo");

    // A value the provider refuses (the demo token must have 8 characters or more): the next check re-creates
    // the instance from the file, the provider refuses it, and the handler says so. Before rotation existed,
    // the old instance kept passing its checks with the old value.
    write_file(token_file, "short\n");
    auto refused = wait_for_handler(d, "rot", [](const json& h) {
      return h["health"]["status"] == "unhealthy" && reason_contains(h, "at least 8 characters");
    });
    CHECK(reason_contains(refused, "token"));

    // The fixed value: healthy again with a new instance, and grants work through it.
    write_file(token_file, second + "\n");
    wait_for_handler(d, "rot", [](const json& h) { return h["health"]["status"] == "healthy"; });
    CHECK_THAT(d.log(), Catch::Contains("handler rot: config field(s) token resolved to new values; instance re-created"));
    const std::string after = request_grant(d, "zephyr");
    CHECK(std::filesystem::exists(d.dir.path() + "/demo-state/grants/" + after + ".json"));

    // The grant made before the rotation is still there, and still revocable through the new instance.
    auto old_grant = json_output(d.admin({"grant", "show", before, "-o", "json"}));
    CHECK(old_grant["status"] == "active");
    REQUIRE(d.admin({"grant", "revoke", before, "--reason", "rotation test done"}).exit_code == 0);
    // Values never reach the log.
    const std::string log = d.log();
    CHECK(log.find(first) == std::string::npos);
    CHECK(log.find(second) == std::string::npos);
    CHECK(d.stop() == 0);
  }
}

TEST_CASE("handler update changes the config in place: routes and grants stay", "[daemon][rotation]") {
  DaemonFixture d("rotation_update");
  const std::string first_file = d.dir.write("token-1", "first-demo-token-0001\n");
  const std::string second_file = d.dir.write("token-2", "second-demo-token-0002\n");
  const std::string state = d.dir.path() + "/demo-state";
  const std::string config = d.dir.write("h.yaml", "state_dir: " + state + "\ntoken: file:" + first_file + "\n");
  REQUIRE(d.admin({"handler", "create", "upd", "--provider", "gatehouse/demo@1.0.0", "--config", config}).exit_code == 0);
  REQUIRE(d.admin({"target-group", "create", "projects", "--kind", "gatehouse/demo@1.0.0/ProjectRole"}).exit_code == 0);
  REQUIRE(d.admin({"route", "create", "--target-group", "projects", "--handler", "upd", "--priority", "10"}).exit_code == 0);
  wait_for_handler(d, "upd", [](const json& h) { return h["health"]["status"] == "healthy"; });
  const std::string grant = request_grant(d, "apollo");

  SECTION("a new config is applied; the handler keeps its routes and grants") {
    const std::string changed =
        d.dir.write("h2.yaml", "state_dir: " + state + "\ntoken: file:" + second_file + "\npage_size: 7\n");
    auto updated = d.admin({"handler", "update", "upd", "--config", changed});
    INFO(updated.out << updated.err);
    REQUIRE(updated.exit_code == 0);
    CHECK_THAT(updated.out, Catch::Contains("handler/upd updated") && Catch::Contains("routes and grants kept"));
    auto h = wait_for_handler(d, "upd", [](const json& h) { return h["health"]["status"] == "healthy"; });
    CHECK(h["config"]["token"] == "file:" + second_file);
    CHECK(h["config"]["page_size"] == 7);
    REQUIRE(h["routes"].size() == 1);
    CHECK(h["routes"][0]["target_group"] == "projects");
    CHECK(h["routes"][0]["priority"] == 10);
    CHECK(json_output(d.admin({"grant", "show", grant, "-o", "json"}))["status"] == "active");
    // Grants keep flowing through it, and the old one is revoked by the new instance.
    request_grant(d, "zephyr");
    REQUIRE(d.admin({"grant", "revoke", grant, "--reason", "update test done"}).exit_code == 0);
    for (int i = 0; i < 300 && std::filesystem::exists(state + "/grants/" + grant + ".json"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(std::filesystem::exists(state + "/grants/" + grant + ".json"));

    auto audit = json_output(d.cli({"audit", "list", "-o", "json", "--object", "handler/upd"}, d.auditor_token));
    bool audited = false;
    for (const auto& e : audit["items"]) audited = audited || e["action"] == "handler.update";
    CHECK(audited);
  }
  SECTION("a config the provider refuses changes nothing (exit 3, the provider's reason)") {
    const std::string short_file = d.dir.write("token-short", "short\n");
    const std::string refused_config = d.dir.write("h3.yaml", "state_dir: " + state + "\ntoken: file:" + short_file + "\n");
    auto refused = d.admin({"handler", "update", "upd", "--config", refused_config});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Catch::Contains("at least 8 characters"));
    auto h = json_output(d.admin({"handler", "show", "upd", "-o", "json"}));
    CHECK(h["config"]["token"] == "file:" + first_file);
    CHECK(h["routes"].size() == 1);
  }
  SECTION("PATCH with another id in the body, or nothing to change, is a 400 with the field path") {
    auto other = d.call("PATCH", "/v1/handlers/upd", d.admin_token, R"({"id":"other","config":{}})");
    CHECK(other.status == 400);
    CHECK_THAT(other.body, Catch::Contains("\"/id\"") && Catch::Contains("cannot change"));
    auto empty = d.call("PATCH", "/v1/handlers/upd", d.admin_token, "{}");
    CHECK(empty.status == 400);
    CHECK_THAT(empty.body, Catch::Contains("at least one of provider, isolation, config"));
    auto missing = d.call("PATCH", "/v1/handlers/nope", d.admin_token, R"({"config":{}})");
    CHECK(missing.status == 404);
    auto requester = d.call("PATCH", "/v1/handlers/upd", d.requester_token, R"({"isolation":"process"})");
    CHECK(requester.status == 403);
  }
  SECTION("the backend is declared, refused when malformed, and removed, in place") {
    auto declared = d.admin({"handler", "update", "upd", "--backend", "demo-east"});
    INFO(declared.out << declared.err);
    REQUIRE(declared.exit_code == 0);
    auto h = json_output(d.admin({"handler", "show", "upd", "-o", "json"}));
    CHECK(h["backend"] == "demo-east");
    CHECK(h["routes"].size() == 1);
    auto bad = d.call("PATCH", "/v1/handlers/upd", d.admin_token, R"({"backend":"-east"})");
    CHECK(bad.status == 400);
    CHECK_THAT(bad.body, Catch::Contains("\"/backend\""));
    auto both = d.admin({"handler", "update", "upd", "--backend", "x", "--no-backend"});
    CHECK(both.exit_code == 2);
    auto removed = d.admin({"handler", "update", "upd", "--no-backend"});
    INFO(removed.out << removed.err);
    REQUIRE(removed.exit_code == 0);
    CHECK(json_output(d.admin({"handler", "show", "upd", "-o", "json"}))["backend"].is_null());
    // A handler body as GET returns it (backend: null) is accepted back.
    REQUIRE(d.admin({"handler", "update", "upd", "--backend", "demo-west"}).exit_code == 0);
    auto as_null = d.call("PATCH", "/v1/handlers/upd", d.admin_token, R"({"backend":null})");
    INFO(as_null.body);
    CHECK(as_null.status == 200);
    CHECK(json_output(d.admin({"handler", "show", "upd", "-o", "json"}))["backend"].is_null());
    CHECK(json_output(d.admin({"grant", "show", grant, "-o", "json"}))["status"] == "active");
  }
  SECTION("apply of a changed config updates the handler in place") {
    const std::string document = d.dir.write(
        "apply.yaml", "handlers:\n  - id: upd\n    provider: gatehouse/demo@1.0.0\n    config:\n      state_dir: " + state +
                          "\n      token: file:" + second_file +
                          "\ntarget_groups:\n  - id: projects\n    kind: gatehouse/demo@1.0.0/ProjectRole\n"
                          "routes:\n  - target_group: projects\n    handler: upd\n    priority: 10\n");
    auto applied = d.admin({"apply", "-f", document});
    INFO(applied.out << applied.err);
    REQUIRE(applied.exit_code == 0);
    CHECK_THAT(applied.out, Catch::Contains("update") && Catch::Contains("handler/upd"));
    auto h = json_output(d.admin({"handler", "show", "upd", "-o", "json"}));
    CHECK(h["config"]["token"] == "file:" + second_file);
    CHECK(h["routes"].size() == 1);
    CHECK(json_output(d.admin({"grant", "show", grant, "-o", "json"}))["status"] == "active");
  }
  CHECK(d.stop() == 0);
}
