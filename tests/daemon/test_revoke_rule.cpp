// The revoke rule through the real daemon and CLI (issue 13 item 1, issue 19 items 1-3, 8): a revoke is confirmed
// only by a handler that holds the access. Two demo handlers with their own state directories; the one that
// granted loses its directory (unhealthy), and the healthy one on another backend must never "confirm" the
// revoke: the grant stays revoking and revoke_failing — loudly — until the granting handler is back.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::eventually;
using gatehouse::test::grant_of;
using gatehouse::test::json_output;
using gatehouse::test::last_change_reason;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// h-b (priority 100) and h-a (50): same provider, own state directories, no backend declared, so they are NOT
// interchangeable for revokes.
std::string apply_two_demo_handlers(DaemonFixture& d, const std::string& backend_b = "",
                                    const std::string& extra_handler = "") {
  fs::create_directories(d.dir.path() + "/a-state");
  fs::create_directories(d.dir.path() + "/b-state");
  const std::string file = d.dir.write("two.yaml", R"(
handlers:
  - id: h-a
    provider: gatehouse/demo@1.0.0
    config: {state_dir: )" + d.dir.path() + R"(/a-state, token: env:DEMO_TOKEN}
  - id: h-b
    provider: gatehouse/demo@1.0.0
)" + (backend_b.empty() ? "" : "    backend: " + backend_b + "\n") +
                                                           R"(    config: {state_dir: )" + d.dir.path() +
                                                           R"(/b-state, token: env:DEMO_TOKEN}
)" + extra_handler + R"(
target_groups:
  - {id: projects, kind: gatehouse/demo@1.0.0/ProjectRole, max_duration: 1h}
routes:
  - {target_group: projects, handler: h-b, priority: 100}
  - {target_group: projects, handler: h-a, priority: 50}
)");
  auto applied = d.admin({"apply", "-f", file});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  REQUIRE(eventually([&] {
    auto handlers = json_output(d.admin({"handler", "list", "-o", "json"}));
    for (const auto& h : handlers["items"])
      if (h["health"]["status"] != "healthy") return false;
    return true;
  }));
  return file;
}

std::string grant_on_h_b(DaemonFixture& d, const std::string& duration) {
  auto granted = d.admin({"grant", "request", "--target-group", "projects", "--subject", "alice@example.com",
                          "--target", "project=apollo", "--target", "role=viewer", "--duration", duration, "--wait",
                          "-o", "json"});
  const json g = json_output(granted);
  REQUIRE(g["status"] == "active");
  REQUIRE(g["handler"] == "h-b");
  return g["id"];
}

void make_unhealthy(DaemonFixture& d, const std::string& handler, const std::string& dir) {
  fs::rename(dir, dir + ".away");
  auto checked = d.admin({"handler", "check", handler});
  INFO(checked.out << checked.err);
  REQUIRE(checked.exit_code == 0);
  REQUIRE_THAT(checked.out, Catch::Contains("is unhealthy"));
}

}  // namespace

TEST_CASE("a revoke owed by an unhealthy handler waits for it and is never confirmed by another backend",
          "[daemon][revoke]") {
  DaemonFixture d("revoke_rule_demo");
  apply_two_demo_handlers(d);
  const std::string b_dir = d.dir.path() + "/b-state";
  const std::string id = grant_on_h_b(d, "10m");
  const std::string file = "/grants/" + id + ".json";
  REQUIRE(fs::exists(b_dir + file));

  make_unhealthy(d, "h-b", b_dir);

  // The default reason is not repeated ("revoked by admin: revoked by admin"); --wait prints the final state:
  // here revoke_failing (exit 3), because nobody holding the access can take the revoke now.
  auto revoked = d.admin({"grant", "revoke", id, "--wait", "--wait-seconds", "60"});
  INFO(revoked.out << revoked.err << d.log());
  CHECK(revoked.exit_code == 3);
  CHECK_THAT(revoked.out, Catch::Contains("is revoking (revoke_failing: handler 'h-b': unavailable"));

  json g = grant_of(d, id);
  CHECK(g["status"] == "revoking");
  CHECK(g["revoke_failing"] == true);
  CHECK(g["end_reason"] == "revoked by admin");
  CHECK_FALSE(fs::exists(d.dir.path() + "/a-state" + file));  // h-a never held it...
  for (const auto& h : g["history"])  // ...and was never asked to confirm anything
    CHECK(h["handler"] != "h-a");

  // Loud: the list filter, the handler's health, the metric, a warning in the log.
  auto failing = json_output(d.admin({"grant", "list", "--status", "revoke-failing", "-o", "json"}));
  REQUIRE(failing["items"].size() == 1);
  CHECK(failing["items"][0]["id"] == id);
  auto shown = d.admin({"handler", "show", "h-b"});
  CHECK_THAT(shown.out, Catch::Contains("1 revoke failing"));
  auto metrics = d.call("GET", "/metrics", d.auditor_token);
  CHECK_THAT(metrics.body, Catch::Contains("gatehouse_grants_revoke_failing{handler=\"h-b\"} 1") &&
                               Catch::Contains("gatehouse_grants_revoke_failing{handler=\"h-a\"} 0"));
  CHECK_THAT(d.log(), Catch::Contains("warning") && Catch::Contains("the revoke owed by handler 'h-b' failed") &&
                          Catch::Contains("handler h-b is now unhealthy"));

  // The directory comes back: the next health check turns h-b good and the owed revoke lands there at once.
  fs::rename(b_dir + ".away", b_dir);
  REQUIRE(fs::exists(b_dir + file));  // the access outlived its end at h-b, as flagged
  REQUIRE(eventually([&] { return grant_of(d, id)["status"] == "revoked"; }));
  CHECK_FALSE(fs::exists(b_dir + file));
  g = grant_of(d, id);
  CHECK(g["revoke_failing"] == false);
  CHECK_THAT(last_change_reason(g),
             Catch::StartsWith("revoked by handler 'h-b' (the granting handler)"));
  auto again = d.admin({"grant", "revoke", id, "--wait"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, Catch::Contains("grant " + id + " is revoked"));
}

TEST_CASE("an expiry at an unhealthy handler does not expire the grant until that handler confirms",
          "[daemon][revoke]") {
  DaemonFixture d("revoke_rule_expiry");
  apply_two_demo_handlers(d);
  const std::string b_dir = d.dir.path() + "/b-state";
  const std::string id = grant_on_h_b(d, "3s");
  make_unhealthy(d, "h-b", b_dir);
  REQUIRE(eventually([&] { return grant_of(d, id)["revoke_failing"] == true; }));
  CHECK(grant_of(d, id)["status"] == "revoking");
  fs::rename(b_dir + ".away", b_dir);
  REQUIRE(eventually([&] { return grant_of(d, id)["status"] == "expired"; }));
  CHECK_FALSE(fs::exists(b_dir + "/grants/" + id + ".json"));
}

TEST_CASE("a deleted granting handler: revoke_failing until an admin re-points or force-closes the grant",
          "[daemon][revoke]") {
  DaemonFixture d("revoke_rule_deleted");
  // h-c manages what h-b manages (same directory) and says so: same provider, same backend.
  const std::string h_c = "  - id: h-c\n    provider: gatehouse/demo@1.0.0\n    backend: demo-east\n"
                          "    config: {state_dir: " + d.dir.path() + "/b-state, token: env:DEMO_TOKEN}\n";
  apply_two_demo_handlers(d, "demo-east", h_c);
  const std::string b_dir = d.dir.path() + "/b-state";
  auto shown = d.admin({"handler", "show", "h-b"});
  CHECK_THAT(shown.out, Catch::Contains("Backend    demo-east"));

  const std::string first = grant_on_h_b(d, "10m");
  REQUIRE(d.admin({"handler", "delete", "h-b"}).exit_code == 0);

  auto revoked = d.admin({"grant", "revoke", first, "--wait"});
  CHECK(revoked.exit_code == 3);
  CHECK_THAT(revoked.out, Catch::Contains("was deleted"));
  CHECK(fs::exists(b_dir + "/grants/" + first + ".json"));

  // A new handler created under the old id (here on another state directory) never held the access: it is
  // never asked, so its "already revoked" cannot close the grant.
  fs::create_directories(d.dir.path() + "/new-b-state");
  const auto new_b = d.dir.write("new-b.yaml", "state_dir: " + d.dir.path() + "/new-b-state\ntoken: env:DEMO_TOKEN\n");
  REQUIRE(d.admin({"handler", "create", "h-b", "--provider", "gatehouse/demo@1.0.0", "--config", new_b}).exit_code == 0);
  REQUIRE(d.admin({"handler", "check", "h-b"}).exit_code == 0);
  REQUIRE(d.admin({"grant", "revoke", first}).exit_code == 0);  // asked again: tried at once
  REQUIRE(eventually([&] {
    return grant_of(d, first)["last_error"].get<std::string>().find("another one, which never held it") !=
           std::string::npos;
  }));
  json g = grant_of(d, first);
  CHECK(g["status"] == "revoking");
  CHECK(g["revoke_failing"] == true);
  for (const auto& h : g["history"]) CHECK_THAT(h["reason"].get<std::string>(), !Catch::Contains("revoked by handler"));
  CHECK(fs::exists(b_dir + "/grants/" + first + ".json"));

  // Only admins force-close, and only with a reason.
  auto by_requester = d.cli({"grant", "revoke", first, "--force", "--reason", "x"}, d.requester_token);
  CHECK(by_requester.exit_code != 0);
  CHECK_THAT(by_requester.err, Catch::Contains("only admins may force-close"));
  auto no_reason = d.admin({"grant", "revoke", first, "--force"});
  CHECK(no_reason.exit_code != 0);
  CHECK_THAT(no_reason.err, Catch::Contains("/reason"));
  // Re-pointing needs the same provider and backend: h-a declares none.
  auto to_a = d.admin({"grant", "revoke", first, "--handler", "h-a"});
  CHECK(to_a.exit_code != 0);
  CHECK_THAT(to_a.err, Catch::Contains("declare backend 'demo-east'"));

  auto forced = d.admin({"grant", "revoke", first, "--force", "--reason", "h-b was decommissioned", "--wait"});
  INFO(forced.out << forced.err);
  CHECK(forced.exit_code == 0);
  CHECK_THAT(forced.out, Catch::Contains("access_may_persist at handler 'h-b'"));
  g = grant_of(d, first);
  CHECK(g["status"] == "revoked");
  CHECK(g["access_may_persist"] == true);
  auto audit = json_output(d.cli({"audit", "list", "--object", "grant/" + first, "-o", "json"}, d.auditor_token));
  bool audited = false;
  for (const auto& e : audit["items"])
    audited = audited || (e["action"] == "grant.revoke" && e["details"].value("force", false) &&
                          e["details"].value("access_may_persist", false));
  CHECK(audited);

  // Attempting it again is an admin's decision too, even for the grant's own requester.
  auto requester_again = d.cli({"grant", "revoke", first}, d.requester_token);
  CHECK(requester_again.exit_code != 0);
  CHECK_THAT(requester_again.err, Catch::Contains("only admins may attempt its revoke again"));

  // A revoke of a force-closed grant is attempted again, here at h-c (same backend): the access is removed.
  auto repointed = d.admin({"grant", "revoke", first, "--handler", "h-c", "--reason", "h-c took over", "--wait"});
  INFO(repointed.out << repointed.err << d.log());
  CHECK(repointed.exit_code == 0);
  CHECK_THAT(repointed.out, Catch::Contains("is revoked"));
  g = grant_of(d, first);
  CHECK(g["access_may_persist"] == false);
  CHECK_FALSE(fs::exists(b_dir + "/grants/" + first + ".json"));
}
