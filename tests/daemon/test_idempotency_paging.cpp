// Retries, paging and refusals through the real gatehoused and CLI over loopback (issue 13, items 5-7):
// Idempotency-Key on POST /v1/grants (replay, conflict, malformed, concurrent retries), grants and audit
// entries paged past 1,000 rows with next_page_token (and the CLI following it), routing skips in a grant's
// history and in /metrics, and a refused grant reported whole by `grant request --wait`.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::RawResponse;
using nlohmann::json;

namespace {

const std::string kGrantBody =
    R"({"target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"10m"})";

// POST /v1/grants with extra header lines ("Name: value"), as raw bytes.
RawResponse post_grant(const DaemonFixture& d, const std::string& token, const std::string& body,
                       const std::vector<std::string>& headers) {
  std::string request = "POST /v1/grants HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\n";
  for (const auto& h : headers) request += h + "\r\n";
  request += "\r\n" + body;
  return gatehouse::test::raw_exchange(d.port, request);
}

json body_of(const RawResponse& r) {
  INFO("HTTP " << r.status << ": " << r.body);
  auto parsed = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  return parsed;
}

json cli_json(const gatehouse::test::ProcessResult& r) {
  INFO("stdout: " << r.out.substr(0, 2000) << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

void apply_example(DaemonFixture& d) {
  auto applied = d.admin({"apply", "-f", d.example_config()});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
}

json wait_for_status(DaemonFixture& d, const std::string& id, const std::string& status) {
  json grant;
  for (int i = 0; i < 600; ++i) {
    grant = cli_json(d.admin({"grant", "show", id, "-o", "json"}));
    if (grant["status"] == status) return grant;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("grant " << id << " never became " << status << "; last seen: " << grant.dump(2));
  return grant;
}

std::size_t lines_with(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("POST /v1/grants with an Idempotency-Key: a retry gets the first grant and another body a 409",
          "[daemon][idempotency]") {
  DaemonFixture d("idempotency_api");
  apply_example(d);

  const auto first = post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: order-66"});
  REQUIRE(first.status == 201);
  const std::string id = body_of(first)["id"];
  CHECK(body_of(first)["idempotency_key"] == "order-66");

  const auto retry = post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: order-66"});
  REQUIRE(retry.status == 200);
  CHECK(body_of(retry)["id"] == id);
  CHECK(retry.headers.at("idempotent-replayed") == "true");
  // The same request spelled differently ("10m" vs 600 s) is the same request.
  const auto respelled = post_grant(
      d, d.requester_token,
      R"({"target":{"role":"viewer","project":"apollo"},"target_group":"projects","duration_seconds":600})",
      {"Idempotency-Key: order-66"});
  REQUIRE(respelled.status == 200);
  CHECK(body_of(respelled)["id"] == id);

  const auto other = post_grant(
      d, d.requester_token, R"({"target_group":"projects","target":{"project":"apollo","role":"viewer"},"duration":"20m"})",
      {"Idempotency-Key: order-66"});
  REQUIRE(other.status == 409);
  CHECK(body_of(other)["error"]["code"] == "idempotency_conflict");
  CHECK_THAT(body_of(other)["error"]["message"].get<std::string>(),
             Catch::Contains("Idempotency-Key 'order-66' was already used") && Catch::Contains(id));

  // Keys belong to the token that used them: another principal's same key is a new request.
  const auto admins = post_grant(d, d.admin_token,
                                 R"({"target_group":"projects","target":{"project":"apollo","role":"viewer"},)"
                                 R"("duration":"10m","subject":"alice@example.com"})",
                                 {"Idempotency-Key: order-66"});
  REQUIRE(admins.status == 201);
  CHECK(body_of(admins)["id"] != id);

  // Malformed keys and two keys are refused before anything is created.
  const auto too_long = post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: " + std::string(256, 'k')});
  REQUIRE(too_long.status == 400);
  CHECK(body_of(too_long)["error"]["code"] == "invalid_argument");
  CHECK_THAT(body_of(too_long)["error"]["message"].get<std::string>(), Catch::Contains("at most 255"));
  const auto non_ascii = post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: caf\xc3\xa9"});
  REQUIRE(non_ascii.status == 400);
  CHECK_THAT(body_of(non_ascii)["error"]["message"].get<std::string>(), Catch::Contains("printable ASCII"));
  const auto twice =
      post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: a-1", "Idempotency-Key: a-2"});
  REQUIRE(twice.status == 400);
  CHECK_THAT(twice.body, Catch::Contains("2 Idempotency-Key headers"));
  auto listed = cli_json(d.admin({"grant", "list", "-o", "json"}));
  CHECK(listed["items"].size() == 2);

  // Concurrent retries of one key (a client re-sending after a dropped connection): one grant.
  std::vector<int> statuses;
  std::set<std::string> ids;
  std::mutex mutex;
  std::atomic<bool> go{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      while (!go) std::this_thread::yield();
      const auto r = post_grant(d, d.requester_token, kGrantBody, {"Idempotency-Key: race"});
      const auto parsed = json::parse(r.body, nullptr, false);
      std::lock_guard lock(mutex);
      statuses.push_back(r.status);
      if (parsed.is_object() && parsed.contains("id")) ids.insert(parsed["id"].get<std::string>());
    });
  go = true;
  for (auto& c : clients) c.join();
  CHECK(std::count(statuses.begin(), statuses.end(), 201) == 1);
  CHECK(std::count(statuses.begin(), statuses.end(), 200) == 7);
  CHECK(ids.size() == 1);
  listed = cli_json(d.admin({"grant", "list", "-o", "json"}));
  CHECK(listed["items"].size() == 3);

  // The CLI sends a key of its own choosing when asked, and says when it got the earlier grant back.
  const std::vector<std::string> request{"grant", "request", "--target-group", "projects", "--target",
                                         "project=apollo", "--target", "role=editor", "--duration", "5m",
                                         "--idempotency-key", "cli-retry"};
  auto once = d.cli(request, d.requester_token);
  INFO(once.out << once.err);
  REQUIRE(once.exit_code == 0);
  auto again = d.cli(request, d.requester_token);
  REQUIRE(again.exit_code == 0);
  CHECK(once.out.substr(0, 42) == again.out.substr(0, 42));  // "grant <uuid>"
  CHECK_THAT(again.out, Catch::Contains("earlier request with this Idempotency-Key"));

  // The replay is audited as such.
  auto audit = cli_json(d.admin({"audit", "list", "--action", "grant.request", "-o", "json"}));
  std::size_t replayed = 0;
  for (const auto& e : audit["items"]) replayed += e["details"].value("replayed", false) ? 1 : 0;
  CHECK(replayed == 1 + 1 + 7 + 1);
}

TEST_CASE("grants and the audit log page past 1000 rows and the CLI follows next_page_token",
          "[daemon][paging]") {
  DaemonFixture d("paging_api");
  apply_example(d);
  // A group without routes: its grants stay pending, so creating many is cheap for the daemon.
  auto group = d.admin({"target-group", "create", "parked", "--kind", "gatehouse/demo@1.0.0/ProjectRole"});
  INFO(group.out << group.err);
  REQUIRE(group.exit_code == 0);
  const std::string body =
      R"({"target_group":"parked","target":{"project":"apollo","role":"viewer"},"duration":"10m","subject":"p@example.com"})";
  std::set<std::string> created;
  for (int i = 0; i < 1050; ++i) {
    const auto r = d.call("POST", "/v1/grants", d.admin_token, body);
    REQUIRE(r.status == 201);
    created.insert(json::parse(r.body)["id"].get<std::string>());
  }
  REQUIRE(created.size() == 1050);

  // Default page: 100 and a token.
  auto first = body_of(d.call("GET", "/v1/grants?target_group=parked", d.admin_token));
  CHECK(first["items"].size() == 100);
  REQUIRE(first["next_page_token"].is_string());

  // Largest pages, with grants inserted between them: every grant that existed is seen exactly once.
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  while (true) {
    std::string target = "/v1/grants?target_group=parked&page_size=1000";
    if (!token.empty()) target += "&page_token=" + token;
    const auto page = body_of(d.call("GET", target, d.admin_token));
    ++pages;
    for (const auto& g : page["items"]) seen.push_back(g["id"]);
    REQUIRE(d.call("POST", "/v1/grants", d.admin_token, body).status == 201);  // newer than the cursor
    if (page["next_page_token"].is_null()) break;
    token = page["next_page_token"];
    REQUIRE(pages < 5);
  }
  CHECK(pages == 2);
  CHECK(seen.size() == 1050);
  CHECK(std::set<std::string>(seen.begin(), seen.end()) == created);

  // Bad paging input is a 400 that names the parameter.
  auto too_big = d.call("GET", "/v1/grants?page_size=1001", d.admin_token);
  REQUIRE(too_big.status == 400);
  CHECK_THAT(too_big.body, Catch::Contains("'page_size' must be a number between 1 and 1000"));
  auto garbage = d.call("GET", "/v1/grants?page_token=%21%21", d.admin_token);
  REQUIRE(garbage.status == 400);
  CHECK_THAT(garbage.body, Catch::Contains("page_token"));
  auto other_filters = d.call("GET", "/v1/grants?target_group=projects&page_token=" +
                                         first["next_page_token"].get<std::string>(),
                              d.admin_token);
  REQUIRE(other_filters.status == 400);
  CHECK_THAT(other_filters.body, Catch::Contains("with the same filters"));

  // The CLI prints every page by default, or --limit of them.
  auto all = d.admin({"grant", "list", "--target-group", "parked"});
  REQUIRE(all.exit_code == 0);
  CHECK(lines_with(all.out, "p@example.com") == 1052);
  auto all_json = cli_json(d.admin({"grant", "list", "--target-group", "parked", "-o", "json"}));
  CHECK(all_json["items"].size() == 1052);
  CHECK(all_json["next_page_token"].is_null());
  auto five = d.admin({"grant", "list", "--target-group", "parked", "--limit", "5"});
  REQUIRE(five.exit_code == 0);
  CHECK(lines_with(five.out, "p@example.com") == 5);
  CHECK_THAT(five.out, Catch::Contains("(first 5; more with a higher --limit)"));

  // The audit log: a grant.request entry per call, paged the same way.
  auto audit_page = body_of(d.call("GET", "/v1/audit?action=grant.request&page_size=1000", d.auditor_token));
  CHECK(audit_page["items"].size() == 1000);
  REQUIRE(audit_page["next_page_token"].is_string());
  auto audit_all = cli_json(d.admin({"audit", "list", "--action", "grant.request", "-o", "json"}));
  std::set<long long> audit_ids;
  for (const auto& e : audit_all["items"]) audit_ids.insert(e["id"].get<long long>());
  CHECK(audit_all["items"].size() == 1052);
  CHECK(audit_ids.size() == 1052);
  auto audit_three = d.admin({"audit", "list", "--action", "grant.request", "--limit", "3"});
  REQUIRE(audit_three.exit_code == 0);
  CHECK(lines_with(audit_three.out, "grant.request") == 3);
}

TEST_CASE("routing skips are in the history and /metrics and a refused grant is reported whole with its "
          "handler and end", "[daemon][routing_skips]") {
  gatehouse::test::DaemonOptions options;
  options.extra_config = "inventory:\n  interval_seconds: 0\n";  // no sync: 'nope' reaches the provider
  DaemonFixture d("routing_skips_api", options);
  apply_example(d);
  const std::string b_state = d.dir.path() + "/demo-b-state";
  std::filesystem::create_directories(b_state);
  const std::string config = d.dir.write("demo-b.yaml", "state_dir: " + b_state + "\ntoken: env:DEMO_TOKEN\n");
  auto created = d.admin({"handler", "create", "demo-b", "--provider", "gatehouse/demo@1.0.0", "--config", config});
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  REQUIRE(d.admin({"route", "create", "--target-group", "projects", "--handler", "demo-b", "--priority", "200"})
              .exit_code == 0);
  // The issue's reproduction: h-b's state directory moves away, a health check notices.
  std::filesystem::rename(b_state, b_state + ".moved");
  auto checked = d.admin({"handler", "check", "demo-b"});
  INFO(checked.out << checked.err);
  REQUIRE_THAT(checked.out, Catch::Contains("unhealthy"));
  // demo checked now too, so the grant is decided once (a wait for demo would name the skip a second time).
  REQUIRE_THAT(d.admin({"handler", "check", "demo"}).out, Catch::Contains("is healthy"));

  auto granted = d.admin({"grant", "request", "--target-group", "projects", "--subject", "alice@example.com",
                          "--target", "project=apollo", "--target", "role=viewer", "--duration", "10m", "--wait"});
  INFO(granted.out << granted.err << d.log());
  REQUIRE(granted.exit_code == 0);
  auto listed = cli_json(d.admin({"grant", "list", "-o", "json"}));
  REQUIRE(listed["items"].size() == 1);
  const std::string id = listed["items"][0]["id"];
  auto shown = d.admin({"grant", "show", id});
  CHECK_THAT(shown.out, Catch::Contains("granted by handler 'demo' (priority 100)") &&
                            Catch::Contains("skipped 'demo-b' (priority 200): unhealthy since 20") &&
                            Catch::Contains("demo-b-state' does not exist"));
  auto metrics = d.call("GET", "/metrics", d.auditor_token);
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body,
             Catch::Contains("gatehouse_routing_skips_total{handler=\"demo-b\",reason=\"unhealthy\"} 1"));

  // A provider refusal: `--wait` prints the provider's message and field path, exit 3.
  auto refused = d.admin({"grant", "request", "--target-group", "projects", "--subject", "alice@example.com",
                          "--target", "project=nope", "--target", "role=viewer", "--duration", "10m", "--wait"});
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 3);
  CHECK_THAT(refused.out, Catch::Contains("is failed"));
  CHECK_THAT(refused.err, Catch::Contains("error: handler 'demo' refused grant") &&
                              Catch::Contains("invalid_argument: project 'nope' does not exist") &&
                              Catch::Contains("  /target/project: project 'nope' does not exist"));
  CHECK_THAT(refused.err, !Catch::Contains("failed: -"));

  // Revoke the active one: the list shows when each grant ended, and which handler refused the failed one.
  REQUIRE(d.admin({"grant", "revoke", id, "--reason", "done"}).exit_code == 0);
  const json revoked = wait_for_status(d, id, "revoked");
  REQUIRE(revoked["ended_at"].is_string());
  auto table = d.admin({"grant", "list"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("ENDED AT") && Catch::Contains(revoked["ended_at"].get<std::string>()));
  listed = cli_json(d.admin({"grant", "list", "--status", "failed", "-o", "json"}));
  REQUIRE(listed["items"].size() == 1);
  const json failed = listed["items"][0];
  CHECK(failed["handler"] == "demo");
  CHECK(failed["ended_at"].is_string());
  CHECK(failed["failure"]["code"] == "invalid_argument");
  CHECK(failed["failure"]["details"][0]["path"] == "/target/project");
  for (const auto& line : {std::string("failed"), failed["ended_at"].get<std::string>()})
    CHECK_THAT(table.out, Catch::Contains(line));
  auto failed_show = d.admin({"grant", "show", failed["id"]});
  CHECK_THAT(failed_show.out, Catch::Contains("refused_by") &&
                                  Catch::Contains("demo: invalid_argument: project 'nope' does not exist") &&
                                  Catch::Contains("/target/project: project 'nope' does not exist"));
}
