// Hostile and broken requests: each gets a 4xx JSON error that says what is wrong, and the daemon keeps
// serving (every section ends by asking /healthz).
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::error_of;
using gatehouse::test::eventually;
using gatehouse::test::http_request;
using gatehouse::test::raw_exchange;
using gatehouse::test::RawResponse;
using nlohmann::json;

namespace {

void still_serving(const DaemonFixture& d) {
  CHECK(d.call("GET", "/healthz", "").status == 200);
  CHECK(d.call("GET", "/v1/handlers", d.admin_token).status == 200);
}

}  // namespace

TEST_CASE("malformed, mistyped and unknown input gets 400 with field paths", "[daemon][api][negative]") {
  DaemonFixture d("api_negative_input");
  SECTION("malformed JSON") {
    auto r = d.call("POST", "/v1/grants", d.admin_token, "{\"subject\": ");
    CHECK(r.status == 400);
    CHECK(error_of(r)["code"] == "invalid_json");
  }
  SECTION("a body that is not an object") {
    auto r = d.call("POST", "/v1/handlers", d.admin_token, "[1,2,3]");
    CHECK(r.status == 400);
    CHECK(error_of(r)["code"] == "invalid_argument");
  }
  SECTION("wrong types, each with its path") {
    auto r = d.call("POST", "/v1/grants", d.admin_token,
                    R"({"target_group": 7, "target": {"project": [1]}, "duration": true})");
    CHECK(r.status == 400);
    auto e = error_of(r);
    std::vector<std::string> paths;
    for (const auto& detail : e["details"]) paths.push_back(detail["path"]);
    CHECK(paths == std::vector<std::string>{"/target_group", "/target/project", "/duration"});
    CHECK_THAT(e["details"][0]["reason"].get<std::string>(), Catch::Contains("must be a string, not integer"));
  }
  SECTION("unknown fields are refused, not ignored") {
    auto r = d.call("POST", "/v1/routes", d.admin_token,
                    R"({"target_group": "g", "handler": "h", "priority": 5, "prority": 6})");
    CHECK(r.status == 400);
    auto e = error_of(r);
    REQUIRE(e["details"].size() == 1);
    CHECK(e["details"][0]["path"] == "/prority");
    CHECK(e["details"][0]["reason"] == "unknown field");
  }
  SECTION("out-of-range numbers and bad durations") {
    auto r = d.call("POST", "/v1/routes", d.admin_token, R"({"target_group": "g", "handler": "h", "priority": 1000})");
    CHECK(r.status == 400);
    CHECK(error_of(r)["details"][0]["path"] == "/priority");
    auto g = d.call("POST", "/v1/grants", d.admin_token, R"({"target_group": "g", "target": {}, "duration": "soon"})");
    CHECK(g.status == 400);
    CHECK(error_of(g)["details"][0]["path"] == "/duration");
  }
  SECTION("hostile names are data, not code") {
    auto r = d.call("GET", "/v1/handlers/x'%3B%20DROP%20TABLE%20handlers%3B--", d.admin_token);
    CHECK(r.status == 404);
    CHECK(error_of(r)["code"] == "not_found");
    auto g = d.call("GET", "/v1/grants/'%20OR%201=1--", d.admin_token);
    CHECK(g.status == 404);
    auto bad_escape = d.call("GET", "/v1/handlers/%zz", d.admin_token);
    CHECK(bad_escape.status == 400);
    auto nul = d.call("GET", "/v1/handlers/a%00b", d.admin_token);
    CHECK(nul.status == 400);
  }
  SECTION("unknown endpoints and methods") {
    auto r = d.call("GET", "/v1/nothing-here", d.admin_token);
    CHECK(r.status == 404);
    auto m = d.call("PUT", "/v1/handlers", d.admin_token, "{}");
    CHECK(m.status == 405);
    CHECK(m.headers["allow"] == "GET, POST");
    CHECK(error_of(m)["code"] == "method_not_allowed");
  }
  SECTION("a body that is not JSON by its content type") {
    auto r = raw_exchange(d.port, http_request("POST", "/v1/handlers", d.admin_token, "id=x", "application/x-www-form-urlencoded"));
    CHECK(r.status == 415);
  }
  still_serving(d);
}

TEST_CASE("transport abuse: oversized bodies, slow clients, garbage bytes", "[daemon][api][negative]") {
  gatehouse::test::DaemonOptions options;
  options.api_extra = "  max_body_bytes: 4096\n  read_timeout_seconds: 2\n";
  DaemonFixture d("api_negative_transport", options);
  SECTION("a body over the limit gets 413 before it is read") {
    const std::string big(64 * 1024, 'x');
    auto r = raw_exchange(d.port, http_request("POST", "/v1/grants", d.admin_token, "{\"subject\":\"" + big + "\"}"));
    CHECK(r.status == 413);
    CHECK(error_of(r)["code"] == "payload_too_large");
  }
  SECTION("a client that stops halfway gets 408 after the read timeout") {
    const auto request = http_request("POST", "/v1/grants", d.admin_token, R"({"target_group":"projects"})");
    auto r = raw_exchange(d.port, request, 20, request.size() - 10);
    CHECK(r.status == 408);
    CHECK(error_of(r)["code"] == "timeout");
  }
  SECTION("garbage instead of HTTP gets 400") {
    auto r = raw_exchange(d.port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", 30));
    CHECK(r.status == 400);
  }
  SECTION("many slow clients at once do not stop others being served") {
    // Each holds a connection with half a request (until the 2 s read timeout answers it) while the test is served.
    std::atomic<int> stalled{0};
    std::vector<std::thread> slow;
    for (int i = 0; i < 20; ++i)
      slow.emplace_back([&] {
        raw_exchange(d.port, http_request("GET", "/v1/handlers", d.admin_token), 5, 10, [&] { ++stalled; });
      });
    const bool all_stalled = eventually([&] { return stalled.load() == 20; });
    CHECK(all_stalled);
    CHECK(d.call("GET", "/healthz", "").status == 200);
    for (auto& t : slow) t.join();
  }
  still_serving(d);
}

TEST_CASE("authentication and roles: 401 without a valid token, 403 for the wrong role", "[daemon][api][auth]") {
  DaemonFixture d("api_auth");
  CHECK(d.call("GET", "/healthz", "").status == 200);
  CHECK(d.call("GET", "/readyz", "").status == 200);

  auto none = d.call("GET", "/v1/grants", "");
  CHECK(none.status == 401);
  CHECK(error_of(none)["code"] == "unauthenticated");
  CHECK(none.headers["www-authenticate"] == "Bearer realm=\"gatehouse\"");
  CHECK(d.call("GET", "/v1/grants", "gh_admin_token_for_tests_012345678").status == 401);  // one character short
  CHECK(d.call("GET", "/metrics", "").status == 401);
  auto basic = gatehouse::test::raw_exchange(
      d.port, "GET /v1/grants HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\nConnection: close\r\n\r\n");
  CHECK(basic.status == 401);

  SECTION("auditors read everything and change nothing") {
    CHECK(d.call("GET", "/v1/handlers", d.auditor_token).status == 200);
    CHECK(d.call("GET", "/v1/audit", d.auditor_token).status == 200);
    CHECK(d.call("GET", "/metrics", d.auditor_token).status == 200);
    auto r = d.call("POST", "/v1/target-groups", d.auditor_token, R"({"id":"x","kind":"gatehouse/demo@1.0.0/ProjectRole"})");
    CHECK(r.status == 403);
    CHECK_THAT(error_of(r)["message"].get<std::string>(), Catch::Contains("role auditor"));
    CHECK(d.call("POST", "/v1/grants", d.auditor_token, R"({"target_group":"x","target":{},"duration":"1h"})").status == 403);
  }
  SECTION("requesters read target groups, request for themselves, and see only their own grants") {
    REQUIRE(d.call("POST", "/v1/target-groups", d.admin_token,
                   R"({"id":"projects","kind":"gatehouse/demo@1.0.0/ProjectRole"})").status == 201);
    CHECK(d.call("GET", "/v1/target-groups", d.requester_token).status == 200);
    CHECK(d.call("GET", "/v1/handlers", d.requester_token).status == 403);
    CHECK(d.call("GET", "/v1/audit", d.requester_token).status == 403);
    auto other = d.call("POST", "/v1/grants", d.requester_token,
                        R"({"subject":"mallory@example.com","target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"1h"})");
    CHECK(other.status == 403);
    CHECK_THAT(error_of(other)["message"].get<std::string>(), Catch::Contains("its own subject 'alice@example.com'"));
    auto own = d.call("POST", "/v1/grants", d.requester_token,
                      R"({"target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"1h"})");
    REQUIRE(own.status == 201);
    const auto grant = json::parse(own.body);
    CHECK(grant["subject"] == "alice@example.com");
    CHECK(grant["created_by"] == "alice");
    const std::string id = grant["id"];
    CHECK(d.call("GET", "/v1/grants/" + id, d.requester_token).status == 200);
    CHECK(d.call("GET", "/v1/grants/" + id, d.other_requester_token).status == 404);
    CHECK(d.call("POST", "/v1/grants/" + id + "/revoke", d.other_requester_token, "{}").status == 404);
    CHECK(d.call("GET", "/v1/grants?subject=alice@example.com", d.other_requester_token).status == 403);
    auto bobs = json::parse(d.call("GET", "/v1/grants", d.other_requester_token).body);
    CHECK(bobs["items"].empty());
    auto revoked = d.call("POST", "/v1/grants/" + id + "/revoke", d.requester_token, R"({"reason":"not needed"})");
    CHECK(revoked.status == 200);
    // The refusal of a mutating call is audited with its caller.
    auto audit = json::parse(d.call("GET", "/v1/audit?action=grant.request", d.admin_token).body);
    bool forbidden_seen = false;
    for (const auto& e : audit["items"]) forbidden_seen |= e["actor"] == "alice" && e["outcome"] == "forbidden";
    CHECK(forbidden_seen);
  }
  // No token appears in the log.
  CHECK(d.log().find(d.admin_token) == std::string::npos);
  CHECK(d.log().find(d.requester_token) == std::string::npos);
}
