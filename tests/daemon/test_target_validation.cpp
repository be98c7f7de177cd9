// Target property limits are the host's to enforce, at request time: a value the provider's schema refuses
// (pattern, length, range, type) is answered 400 with its path before a grant exists, so the provider never
// sees it. Drives the real daemon with the SDK's hello example, whose Booking kind declares such limits.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::RawResponse;
using nlohmann::json;

namespace {

json body_of(const RawResponse& r, int status) {
  INFO("status " << r.status << " body " << r.body);
  REQUIRE(r.status == status);
  return json::parse(r.body);
}

// Polls the grant until it reaches `status` (generous deadline; no fixed sleeps as synchronisation).
json wait_for_status(const DaemonFixture& d, const std::string& id, const std::string& status) {
  json grant;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    grant = body_of(d.call("GET", "/v1/grants/" + id, d.admin_token), 200);
    if (grant["status"] == status) return grant;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("grant " << id << " never became " << status << "; last seen: " << grant.dump(2));
  return grant;
}

void set_up_bookings(const DaemonFixture& d) {
  body_of(d.call("POST", "/v1/handlers", d.admin_token,
                 R"({"id": "rooms", "provider": "acme/hello@0.1.0", "config": {"api_key": "env:DEMO_TOKEN"}})"),
          201);
  body_of(d.call("POST", "/v1/target-groups", d.admin_token,
                 R"({"id": "bookings", "kind": "acme/hello@0.1.0/Booking"})"),
          201);
  body_of(d.call("POST", "/v1/routes", d.admin_token,
                 R"({"target_group": "bookings", "handler": "rooms", "priority": 100})"),
          201);
}

std::size_t grant_count(const DaemonFixture& d) {
  return body_of(d.call("GET", "/v1/grants", d.admin_token), 200)["items"].size();
}

}  // namespace

TEST_CASE("a target value the provider's schema refuses is answered 400 with its path, before any grant exists",
          "[daemon][api][target_validation]") {
  DaemonFixture d("target_validation");
  set_up_bookings(d);

  SECTION("over the API: every fault at once, with its path and the limit it breaks") {
    auto r = d.call("POST", "/v1/grants", d.admin_token,
                    R"({"target_group": "bookings", "subject": "alice@example.com", "duration": "1h",
                        "target": {"room": "Lobby!", "seats": 0, "moderated": "maybe"}})");
    const json e = body_of(r, 400)["error"];
    CHECK(e["code"] == "invalid_argument");
    std::map<std::string, std::string> reasons;
    for (const auto& detail : e["details"]) reasons[detail["path"]] = detail["reason"];
    REQUIRE(reasons.size() == 3);
    CHECK(reasons["/target/room"] == "must match the pattern ^[a-z][a-z0-9-]*$ (got 'Lobby!')");
    CHECK(reasons["/target/seats"] == "must be at least 1 (got '0')");
    CHECK(reasons["/target/moderated"] == "must be true or false (got 'maybe')");
    CHECK_THAT(e["message"].get<std::string>(), Catch::Contains("the grant request is invalid"));
    CHECK(grant_count(d) == 0);  // refused at the door: no grant row, no provider call
  }

  SECTION("a length limit counts characters, and an integer must be plain decimal") {
    auto r = d.call("POST", "/v1/grants", d.admin_token,
                    R"({"target_group": "bookings", "subject": "alice@example.com", "duration": "1h",
                        "target": {"room": "a-room-name-that-is-far-too-long-x", "seats": "12.0"}})");
    const json e = body_of(r, 400)["error"];
    std::map<std::string, std::string> reasons;
    for (const auto& detail : e["details"]) reasons[detail["path"]] = detail["reason"];
    CHECK_THAT(reasons["/target/room"], Catch::StartsWith("must be at most 32 characters long"));
    CHECK_THAT(reasons["/target/seats"], Catch::StartsWith("must be an integer in plain decimal"));
    CHECK(grant_count(d) == 0);
  }

  SECTION("through the CLI: exit 3 and the path") {
    auto refused = d.admin({"grant", "request", "--target-group", "bookings", "--subject", "alice@example.com",
                            "--target", "room=big-room", "--target", "seats=51", "--duration", "1h"});
    INFO("stdout: " << refused.out << "\nstderr: " << refused.err);
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Catch::Contains("/target/seats") && Catch::Contains("must be at most 50"));
    CHECK(grant_count(d) == 0);
  }

  SECTION("values within the limits reach the provider, integers and booleans as JSON or as text") {
    auto r = d.call("POST", "/v1/grants", d.admin_token,
                    R"({"target_group": "bookings", "subject": "alice@example.com", "duration": "1h",
                        "target": {"room": "lobby", "seats": 12, "moderated": true}})");
    const json created = body_of(r, 201);
    CHECK(created["target"] == json({{"room", "lobby"}, {"seats", "12"}, {"moderated", "true"}}));
    wait_for_status(d, created["id"], "active");

    auto cli = d.admin({"grant", "request", "--target-group", "bookings", "--subject", "bob@example.com", "--target",
                        "room=quiet-room", "--target", "seats=50", "--duration", "1h", "--wait", "-o", "json"});
    INFO("stdout: " << cli.out << "\nstderr: " << cli.err);
    REQUIRE(cli.exit_code == 0);
    CHECK(json::parse(cli.out)["status"] == "active");
  }
}
