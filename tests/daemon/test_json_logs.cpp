// One log format: with `logging.format: json` every line gatehoused's stderr receives is one JSON object —
// its own lines, the provider runners' lines and the providers' log calls, in process and isolated — and each
// provider line carries its handler id. The real daemon, a real demo provider logging as it grants.
#include "daemon_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

using gatehouse::test::DaemonFixture;
using gatehouse::test::DaemonOptions;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The log's lines as JSON objects; fails naming the first line that is not one.
std::vector<json> json_lines(const std::string& log) {
  std::vector<json> out;
  for (const auto& line : lines_of(log)) {
    INFO("log line: " << line);
    const json parsed = json::parse(line, nullptr, false);
    REQUIRE(parsed.is_object());
    REQUIRE(parsed.contains("msg"));
    REQUIRE(parsed.contains("level"));
    REQUIRE(parsed.contains("time"));
    out.push_back(parsed);
  }
  return out;
}

// The first line whose message contains `text`, once it was written (provider lines of an isolated handler
// are relayed by the runner's watcher, a moment after the grant completed).
std::optional<json> wait_for_line(DaemonFixture& d, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    for (const auto& line : lines_of(d.log())) {
      const json parsed = json::parse(line, nullptr, false);
      if (parsed.is_object() && parsed.value("msg", "").find(text) != std::string::npos) return parsed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

void setup_handler(DaemonFixture& d, const std::string& id, const std::string& isolation) {
  const std::string state = d.dir.path() + "/state-" + id;
  std::filesystem::create_directories(state);
  const std::string config = d.dir.write(id + ".yaml", "state_dir: " + state + "\ntoken: env:DEMO_TOKEN\n");
  auto created = d.admin({"handler", "create", id, "--provider", "gatehouse/demo@1.0.0", "--config", config,
                          "--isolation", isolation});
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  REQUIRE(d.admin({"target-group", "create", "g-" + id, "--kind", "gatehouse/demo@1.0.0/ProjectRole"}).exit_code == 0);
  REQUIRE(d.admin({"route", "create", "--target-group", "g-" + id, "--handler", id, "--priority", "10"}).exit_code == 0);
}

void grant_through(DaemonFixture& d, const std::string& id, const std::string& project) {
  auto requested = d.cli({"grant", "request", "--target-group", "g-" + id, "--target", "project=" + project,
                          "--target", "role=editor", "--duration", "10m", "--reason", "json logs", "--wait",
                          "--wait-seconds", "60"},
                         d.requester_token);
  INFO(requested.out << requested.err << d.log());
  REQUIRE(requested.exit_code == 0);
  REQUIRE_THAT(requested.out, Catch::Contains("is active"));
}

}  // namespace

TEST_CASE("with logging.format json every log line is one JSON object - provider lines carry their handler",
          "[daemon][logging]") {
  DaemonOptions options;
  options.extra_config = "logging:\n  format: json\n  level: debug\n";
  DaemonFixture d("json_logs", options);
  setup_handler(d, "iso", "process");
  setup_handler(d, "inp", "in_process");
  grant_through(d, "iso", "apollo");
  grant_through(d, "inp", "zephyr");

  // The demo provider logs "granted <role> on <project> to <subject>" through the host API.
  auto isolated = wait_for_line(d, "granted editor on apollo to alice@example.com");
  REQUIRE(isolated.has_value());
  CHECK((*isolated)["handler"] == "iso");
  CHECK((*isolated)["source"] == "provider");
  CHECK((*isolated)["level"] == "info");
  CHECK((*isolated)["runner_pid"].is_string());  // relayed from that handler's runner

  auto in_process = wait_for_line(d, "granted editor on zephyr to alice@example.com");
  REQUIRE(in_process.has_value());
  CHECK((*in_process)["handler"] == "inp");
  CHECK((*in_process)["source"] == "provider");
  CHECK_FALSE(in_process->contains("runner_pid"));

  CHECK(d.stop() == 0);
  // After a full life (start, runners started and stopped, grants, shutdown) not one plain-text line.
  const auto lines = json_lines(d.log());
  CHECK(lines.size() > 5);
  for (const auto& line : lines) {
    if (line.value("source", "") == "provider") CHECK(line.contains("handler"));
  }
  CHECK_THAT(d.log(), Catch::Contains("gatehoused stopped"));
}
