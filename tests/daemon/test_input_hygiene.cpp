// Issue 13 items 2, 3 and 5 through the real gatehoused and CLI: text PostgreSQL cannot store is refused at the
// door with its field path and nothing is created; repeated keys and two Authorization headers are refused;
// secret and provider refusals are 400s under /config and the CLI exits 3; an empty subject is refused; bad
// durations are named once. Before the fix: 500 database_error with PostgreSQL's text, subjects and reasons
// cut at the NUL, grants without audit entries, a raw NUL in the log, handlers created from a NUL config.
#include "daemon_checks.hpp"
#include "daemon_fixture.hpp"
#include "postgres_fixture.hpp"

#include "audit/audit_log.hpp"
#include "daemon/log_escaping.hpp"
#include "store/migrations.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include <algorithm>
#include <filesystem>

using gatehouse::test::DaemonFixture;
using gatehouse::test::error_of;
using gatehouse::test::http_request;
using gatehouse::test::raw_exchange;
using gatehouse::test::RawResponse;
using nlohmann::json;

namespace {

// The one fault of a 400 answer: {code, path, reason}.
struct Refusal {
  int status = 0;
  std::string code, path, reason, message;
};

Refusal refusal_of(const RawResponse& r) {
  INFO("status " << r.status << " body " << r.body);
  auto e = error_of(r);
  Refusal out{r.status, e.value("code", ""), "", "", e.value("message", "")};
  REQUIRE(e["details"].is_array());
  if (!e["details"].empty()) {
    out.path = e["details"][0].value("path", "");
    out.reason = e["details"][0].value("reason", "");
  }
  return out;
}

json get_json(const DaemonFixture& d, const std::string& target) {
  auto r = d.call("GET", target, d.admin_token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

std::size_t grant_count(const DaemonFixture& d) { return get_json(d, "/v1/grants?limit=1000")["items"].size(); }

void apply_example(DaemonFixture& d) {
  auto applied = d.admin({"apply", "-f", d.example_config()});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
}

const std::string kNul = "\\u0000";  // as a JSON escape inside a body

}  // namespace

TEST_CASE("a NUL in any field of a request is refused at the door with its path, and nothing is created",
          "[daemon][api][input]") {
  DaemonFixture d("input_nul_fields");
  apply_example(d);
  const std::string state = d.dir.path() + "/demo-state";

  struct Case {
    const char* what;
    std::string method, target, body, path;
  };
  const std::vector<Case> cases = {
      {"subject", "POST", "/v1/grants",
       R"({"subject": "alice)" + kNul + R"(@example.com", "target_group": "projects", "target": {"project": "apollo", "role": "viewer"}, "duration": "10m"})",
       "/subject"},
      {"reason", "POST", "/v1/grants",
       R"({"target_group": "projects", "target": {"project": "apollo", "role": "viewer"}, "duration": "10m", "reason": "x)" + kNul + R"(y"})",
       "/reason"},
      {"target property", "POST", "/v1/grants",
       R"({"target_group": "projects", "target": {"project": "apo)" + kNul + R"(llo", "role": "viewer"}, "duration": "10m"})",
       "/target/project"},
      {"handler config value", "POST", "/v1/handlers",
       R"({"id": "demo-nul", "provider": "gatehouse/demo@1.0.0", "config": {"state_dir": ")" + state + kNul +
           R"(", "token": "env:DEMO_TOKEN"}})",
       "/config/state_dir"},
      {"handler id", "POST", "/v1/handlers",
       R"({"id": "demo)" + kNul + R"(x", "provider": "gatehouse/demo@1.0.0", "config": {"state_dir": ")" + state +
           R"(", "token": "env:DEMO_TOKEN"}})",
       "/id"},
      {"handler provider name", "POST", "/v1/handlers",
       R"({"id": "demo-p", "provider": "gatehouse/demo)" + kNul + R"(@1.0.0", "config": {}})", "/provider"},
      {"target group id", "POST", "/v1/target-groups",
       R"({"id": "g)" + kNul + R"(", "kind": "gatehouse/demo@1.0.0/ProjectRole"})", "/id"},
      {"revoke reason", "POST", "/v1/grants/00000000-0000-0000-0000-000000000000/revoke",
       R"({"reason": "done)" + kNul + R"("})", "/reason"},
      {"apply document", "POST", "/v1/apply",
       R"({"handlers": [{"id": "demo", "provider": "gatehouse/demo@1.0.0", "config": {"state_dir": ")" + state +
           R"(", "token": "env:DEMO_TOKEN", "x": "a)" + kNul + R"("}}]})",
       "/handlers/0/config/x"},
      {"ill-formed UTF-8 in a reason", "POST", "/v1/grants",
       "{\"target_group\": \"projects\", \"target\": {\"project\": \"apollo\", \"role\": \"viewer\"}, "
       "\"duration\": \"10m\", \"reason\": \"caf\xC3\x28\"}",
       "/reason"},
      {"path segment", "GET", "/v1/handlers/de%00mo", "", "/path/2"},
      {"ill-formed UTF-8 in a path segment", "DELETE", "/v1/handlers/demo%FF", "", "/path/2"},
      {"query parameter", "GET", "/v1/grants?subject=alice%00", "", "/query/subject"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto r = refusal_of(d.call(c.method, c.target, d.admin_token, c.body));
    CHECK(r.status == 400);
    CHECK(r.code == "invalid_argument");
    CHECK(r.path == c.path);
    CHECK_THAT(r.reason, Catch::Contains("NUL") || Catch::Contains("UTF-8"));
    CHECK_THAT(r.message, !Catch::Contains("database") && !Catch::Contains("0x00") && !Catch::Contains("ERROR:"));
  }

  // Nothing was created: no grant, no handler (its provider instance was never made), no group.
  CHECK(grant_count(d) == 0);
  CHECK(d.call("GET", "/v1/handlers/demo-nul", d.admin_token).status == 404);
  CHECK(get_json(d, "/v1/handlers")["items"].size() == 1);
  CHECK(get_json(d, "/v1/target-groups")["items"].size() == 1);

  // Every refused call was audited (the write never failed on the caller's text), and the log holds no NUL.
  auto audit = json::parse(d.call("GET", "/v1/audit?limit=500", d.auditor_token).body);
  std::size_t refused = 0;
  for (const auto& e : audit["items"]) refused += e["outcome"] == "invalid_argument";
  CHECK(refused >= 9);
  const std::string log = d.log();
  CHECK(log.find('\0') == std::string::npos);
  CHECK_THAT(log, !Catch::Contains("audit log write failed") && !Catch::Contains("database_error"));

  // A well-formed request still works after all of that.
  auto ok = d.call("POST", "/v1/grants", d.requester_token,
                   R"({"target_group": "projects", "target": {"project": "apollo", "role": "viewer"}, "duration": "10m", "reason": "caf\u00e9 \u2603"})");
  INFO(ok.body);
  CHECK(ok.status == 201);
}

TEST_CASE("repeated keys and two Authorization headers are refused", "[daemon][api][input]") {
  DaemonFixture d("input_duplicates");
  auto dup = refusal_of(d.call("POST", "/v1/grants", d.admin_token,
                               R"({"subject": "alice@example.com", "target_group": "g", "target": {}, "duration": "1h", "subject": "root"})"));
  CHECK(dup.status == 400);
  CHECK(dup.code == "invalid_json");
  CHECK(dup.path == "/subject");
  CHECK_THAT(dup.message, Catch::Contains("repeats the key 'subject'"));

  auto nested = refusal_of(d.call("POST", "/v1/apply", d.admin_token,
                                  R"({"handlers": [{"id": "h", "provider": "p/q@1.0.0", "config": {"token": "env:A", "token": "env:B"}}]})"));
  CHECK(nested.code == "invalid_json");
  CHECK(nested.path == "/handlers/0/config/token");

  // Two credentials: 400 bad_request before any handler or token check runs (not 401: the request is malformed).
  std::string request = http_request("GET", "/v1/handlers", d.admin_token);
  request.insert(request.find("\r\n") + 2, "Authorization: Bearer " + d.requester_token + "\r\n");
  auto two = raw_exchange(d.port, request);
  CHECK(two.status == 400);
  auto e = error_of(two);
  CHECK(e["code"] == "bad_request");
  CHECK_THAT(e["message"].get<std::string>(), Catch::Contains("2 Authorization headers"));
  CHECK(d.call("GET", "/v1/handlers", d.admin_token).status == 200);
}

TEST_CASE("secret and provider refusals are 400s under /config, and the CLI exits 3", "[daemon][api][input]") {
  gatehouse::test::DaemonOptions options;
  options.start = false;
  DaemonFixture d("input_config_refusals", options);
  // The demo provider refuses a token shorter than 8 characters in its constructor (not in its schema).
  d.env["SHORT_DEMO_TOKEN"] = "Zq9!xw7";
  d.start();
  const std::string state = d.dir.path() + "/demo-state";
  auto create = [&](const std::string& id, const std::string& token) {
    return d.call("POST", "/v1/handlers", d.admin_token,
                  json{{"id", id}, {"provider", "gatehouse/demo@1.0.0"}, {"config", {{"state_dir", state}, {"token", token}}}}
                      .dump());
  };

  auto unset = refusal_of(create("demo-unset", "env:GATEHOUSE_TEST_SURELY_UNSET_VARIABLE"));
  CHECK(unset.status == 400);
  CHECK(unset.code == "secret_unresolved");
  CHECK(unset.path == "/config/token");
  CHECK_THAT(unset.reason, Catch::Contains("GATEHOUSE_TEST_SURELY_UNSET_VARIABLE") && Catch::Contains("not set"));

  auto missing = refusal_of(create("demo-file", "file:" + d.dir.path() + "/no-such-secret"));
  CHECK(missing.code == "secret_unresolved");
  CHECK(missing.path == "/config/token");

  // The provider's own refusal: its diagnostic, re-rooted under /config, its sentence without the value.
  auto refused = refusal_of(create("demo-short", "env:SHORT_DEMO_TOKEN"));
  CHECK(refused.status == 400);
  CHECK(refused.code == "config_invalid");
  CHECK(refused.path == "/config/token");
  CHECK_THAT(refused.message, Catch::StartsWith("handler 'demo-short': ") && !Catch::Contains("Zq9!xw7"));
  CHECK(get_json(d, "/v1/handlers")["items"].empty());

  const std::string config = d.dir.write("unset.yaml", "state_dir: " + state + "\ntoken: env:GATEHOUSE_TEST_SURELY_UNSET_VARIABLE\n");
  auto cli = d.admin({"handler", "create", "demo-cli", "--provider", "gatehouse/demo@1.0.0", "--config", config});
  CHECK(cli.exit_code == 3);
  CHECK_THAT(cli.err, Catch::Contains("/config/token") && Catch::Contains("not set"));
  const std::string nul = d.dir.write("nul.yaml", "state_dir: \"" + state + "\\0\"\ntoken: env:DEMO_TOKEN\n");
  auto cli_nul = d.admin({"handler", "create", "demo-cli", "--provider", "gatehouse/demo@1.0.0", "--config", nul});
  CHECK(cli_nul.exit_code == 3);
  CHECK_THAT(cli_nul.err, Catch::Contains("/state_dir") && Catch::Contains("NUL"));
}

TEST_CASE("an empty subject is refused, and bad durations are named once", "[daemon][api][input]") {
  DaemonFixture d("input_subject_durations");
  apply_example(d);
  auto empty = refusal_of(d.call("POST", "/v1/grants", d.admin_token,
                                 R"({"subject": "", "target_group": "projects", "target": {"project": "apollo", "role": "viewer"}, "duration": "10m"})"));
  CHECK(empty.status == 400);
  CHECK(empty.path == "/subject");
  CHECK(empty.reason == "must not be empty");
  CHECK(grant_count(d) == 0);

  auto request = [&](const std::string& duration) {
    return d.cli({"grant", "request", "--target-group", "projects", "--target", "project=apollo", "--target",
                  "role=viewer", "--duration", duration},
                 d.requester_token);
  };
  struct Case {
    std::string duration, says;
  };
  for (const auto& c : std::vector<Case>{{"1h1h", "repeats the unit 'h'"},
                                         {"3600", "needs a unit: 3600s"},
                                         {"0s", "must be at least 1s"},
                                         {"9h", "must be at most 8h for target group 'projects' (got 9h)"}}) {
    INFO(c.duration);
    auto r = request(c.duration);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.err, Catch::Contains("/duration: " + c.says));
    // Printed once: the sentence counts the faults, the detail line names each.
    const auto first = r.err.find(c.says);
    CHECK(r.err.find(c.says, first + 1) == std::string::npos);
  }
  CHECK(grant_count(d) == 0);
  auto fine = request("1h30m");
  INFO(fine.err);
  CHECK(fine.exit_code == 0);
}

TEST_CASE("the audit writer stores what PostgreSQL can hold, whatever a caller sent", "[daemon][audit][input]") {
  namespace store = gatehouse::host::store;
  namespace audit = gatehouse::host::audit;
  store::Database db(gatehouse::test::TestPostgres::instance().fresh_database("input_audit"));
  REQUIRE(store::migrate(db).ok());
  const std::string nul("a\0b", 3), bad_utf8 = "caf\xC3\x28";
  auto written = audit::record(db, "alice" + nul, "grant.request", "grant/" + bad_utf8, "invalid_argument",
                               json{{"reason", nul}, {"k" + nul, {bad_utf8, 1}}});
  INFO((written.ok() ? std::string() : written.error().describe()));
  REQUIRE(written.ok());
  audit::AuditFilter filter;
  auto listed = audit::list(db, filter);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  const auto& e = listed->front();
  CHECK(e.actor == "alicea\xEF\xBF\xBD" "b");
  CHECK(e.object == "grant/caf\xEF\xBF\xBD(");
  CHECK(e.details["reason"] == "a\xEF\xBF\xBD" "b");
  CHECK(e.details["ka\xEF\xBF\xBD" "b"][0] == "caf\xEF\xBF\xBD(");
}

TEST_CASE("log lines escape control characters a message carries", "[daemon][logging][input]") {
  gatehouse::host::daemon::EscapingFormatter formatter("%l %v");
  const std::string payload = std::string("request for alice\n2026-01-01 INFO forged\0\x1b[2J", 45);
  spdlog::details::log_msg msg("gatehoused", spdlog::level::warn, spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t out;
  formatter.format(msg, out);
  const std::string line(out.data(), out.size());
  CHECK(line == "warning request for alice\\n2026-01-01 INFO forged\\x00\\x1b[2J\n");
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  auto clone = formatter.clone();
  spdlog::memory_buf_t again;
  clone->format(msg, again);
  CHECK(std::string(again.data(), again.size()) == line);
}
