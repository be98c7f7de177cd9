// The real gatehoused, started for a test: a fresh database on the test cluster, the build's providers, a
// free loopback port and three API tokens (admin, requester "alice@example.com", auditor). The CLI helpers
// run the real `gatehouse` binary against it. The daemon is stopped with SIGTERM when the fixture ends, and
// the test fails if it did not stop cleanly (exit 0).
#pragma once

#include "raw_http.hpp"
#include "run_process.hpp"

#include <map>
#include <string>
#include <vector>

namespace gatehouse::test {

struct DaemonOptions {
  std::string extra_config{};  // YAML appended to the generated config (top-level keys)
  std::string api_extra{};     // YAML lines appended under `api:` (indented by two spaces already)
  std::map<std::string, std::string> env{};  // added to the fixture's env before the daemon starts (dsns, …)
  // Another fixture's database_url(): this daemon is a second replica on the same database. Empty: a fresh one.
  std::string database_url{};
  bool start = true;
};

class DaemonFixture {
 public:
  explicit DaemonFixture(const std::string& name, DaemonOptions options = {});
  ~DaemonFixture();
  DaemonFixture(const DaemonFixture&) = delete;
  DaemonFixture& operator=(const DaemonFixture&) = delete;

  void start();
  // SIGTERM, wait; returns the exit code (128 + signal when killed).
  int stop(int timeout_seconds = 60);

  // Runs `gatehouse ARGS…` against this daemon with `token` (GATEHOUSE_TOKEN) set.
  ProcessResult cli(const std::vector<std::string>& args, const std::string& token) const;
  ProcessResult admin(const std::vector<std::string>& args) const { return cli(args, admin_token); }

  RawResponse call(const std::string& method, const std::string& target, const std::string& token,
                   const std::string& body = "") const {
    return http_call(port, method, target, token, body);
  }

  std::string log() const;  // what the daemon wrote to stderr so far

  // Writes packaging/examples/gatehouse.yaml with this fixture's demo state dir, returns its path.
  std::string example_config() const;

  // The database this daemon uses (pass it as DaemonOptions::database_url to start a replica).
  std::string database_url() const { return env.at("GATEHOUSE_TEST_DATABASE_URL"); }

  TempDir dir{"gatehouse-daemon"};
  int port = 0;
  std::string config_path;
  std::string admin_token = "gh_admin_token_for_tests_0123456789";
  std::string requester_token = "gh_requester_token_for_tests_0123456789";
  std::string auditor_token = "gh_auditor_token_for_tests_0123456789";
  std::string other_requester_token = "gh_bob_token_for_tests_0123456789";
  std::map<std::string, std::string> env;  // for the daemon and the CLI (DEMO_TOKEN, …)

 private:
  int pid_ = -1;
  std::string log_path_;
};

std::string gatehoused_path();
std::string gatehouse_cli_path();

}  // namespace gatehouse::test
