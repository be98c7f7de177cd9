// gatehouse-provider-runner as a program: run by hand, its handshake, and refusals that must look exactly like
// the in-process loader's.
#include "isolation_support.hpp"

#include "isolation/runner_process.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <future>

using namespace isolation_test;

namespace {

// A stand-in runner: a shell script that finds its --fd and writes `line` (or nothing) there.
std::string fake_runner(const TempDir& dir, const std::string& body) {
  const std::string path = dir.write("fake-runner",
                                     "#!/bin/sh\n"
                                     "while [ $# -gt 0 ]; do [ \"$1\" = --fd ] && fd=$2; shift; done\n" +
                                         body);
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace

TEST_CASE("run by hand, the runner says what it is and how it is used, and exits 2", "[isolation][runner]") {
  auto plain = gatehouse::test::run_process({runner_path()});
  CHECK(plain.exit_code == 2);
  CHECK_THAT(plain.out, Catch::Contains("gatehouse-provider-runner") && Catch::Contains("--fd N") &&
                            Catch::Contains("not by hand"));

  auto no_provider = gatehouse::test::run_process({runner_path(), "--fd", "3"});
  CHECK(no_provider.exit_code == 2);

  auto bad = gatehouse::test::run_process({runner_path(), "--threads", "many"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("bad argument '--threads'"));

  auto version = gatehouse::test::run_process({runner_path(), "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out == handshake_line());
}

TEST_CASE("a runner speaking another protocol is refused, naming both versions", "[isolation][runner]") {
  TempDir dir("gatehouse-fake-runner");
  auto options = fast_options();
  options.shutdown_grace = 200ms;

  SECTION("another runner protocol") {
    // It also leaves a child behind, which must go with it (the runner's process group is killed). Both would
    // live for 10 minutes: the refusal returning at all shows the runner was killed, not waited for.
    options.runner_path = fake_runner(dir, "sleep 600 &\necho $! > " + dir.path() + "/child.pid\n"
                                           "eval \"echo 'gatehouse-provider-runner 1 9.9.9 99' >&$fd\"\nwait\n");
    auto loading = std::async(std::launch::async, [&] { return load_provider_isolated(demo_provider_path(), options); });
    INFO("the refused runner was not killed: the load is still waiting for it after 60 s");
    REQUIRE(loading.wait_for(60s) == std::future_status::ready);
    auto module = loading.get();
    REQUIRE_FALSE(module.ok());
    CHECK(module.error().code == "runner_protocol_mismatch");
    CHECK_THAT(module.error().message, Catch::Contains("speaks runner protocol 99") &&
                                           Catch::Contains("this host (gatehouse 0.1.0) speaks runner protocol 1") &&
                                           Catch::Contains(options.runner_path.string()));
    // The refused runner's child went with it.
    std::ifstream child_file(dir.path() + "/child.pid");
    pid_t child = 0;
    REQUIRE(child_file >> child);
    CHECK(eventually([&] { return !process_exists(child); }));
  }
  SECTION("not a runner at all") {
    options.runner_path = fake_runner(dir, "eval \"echo 'Hello, world' >&$fd\"\nsleep 30\n");
    auto module = load_provider_isolated(demo_provider_path(), options);
    REQUIRE_FALSE(module.ok());
    CHECK(module.error().code == "runner_handshake_failed");
    CHECK_THAT(module.error().message, Catch::Contains("Hello, world"));
  }
  SECTION("a runner that exits before its handshake") {
    options.runner_path = fake_runner(dir, "exit 5\n");
    auto module = load_provider_isolated(demo_provider_path(), options);
    REQUIRE_FALSE(module.ok());
    CHECK(module.error().code == "runner_start_failed");
    CHECK_THAT(module.error().message, Catch::Contains("exited with status 5 before its handshake"));
  }
  SECTION("a runner that says nothing") {
    options.runner_path = fake_runner(dir, "sleep 30\n");
    options.start_timeout = 300ms;
    auto module = load_provider_isolated(demo_provider_path(), options);
    REQUIRE_FALSE(module.ok());
    CHECK(module.error().code == "runner_start_failed");
    CHECK_THAT(module.error().message, Catch::Contains("wrote no handshake line"));
  }
}

TEST_CASE("a runner that is missing is named in the refusal", "[isolation][runner]") {
  auto options = fast_options();
  options.runner_path = "/nonexistent/gatehouse-provider-runner";
  auto module = load_provider_isolated(demo_provider_path(), options);
  REQUIRE_FALSE(module.ok());
  CHECK(module.error().code == "runner_unavailable");
  CHECK_THAT(module.error().message, Catch::Contains("/nonexistent/gatehouse-provider-runner"));

  ::setenv(kRunnerEnvironmentVariable, runner_path().c_str(), 1);
  auto found = find_runner();
  ::unsetenv(kRunnerEnvironmentVariable);
  REQUIRE(found.ok());
  CHECK(found->string() == runner_path());
}

TEST_CASE("a provider the runner refuses gets the in-process loader's code and sentence", "[isolation][runner]") {
  const std::string mode = GENERATE(as<std::string>{}, "missing_entry_symbol", "abi_major_mismatch",
                                    "abi_minor_too_new", "bad_struct_size", "garbage_bytes",
                                    "schema_breaks_meta_schema", "not_a_shared_object", "missing_dependency");
  INFO(mode);
  auto in_process = load_provider_in_process(fixture_path(mode));
  auto isolated_load = load_provider_isolated(fixture_path(mode), fast_options());
  REQUIRE_FALSE(in_process.ok());
  REQUIRE_FALSE(isolated_load.ok());
  CHECK(isolated_load.error().code == in_process.error().code);
  CHECK(isolated_load.error().message == in_process.error().message);
  CHECK(isolated_load.error().diagnostics == in_process.error().diagnostics);
}

TEST_CASE("an instance the provider refuses to create gives the same create_failed", "[isolation][runner]") {
  auto in_process = load_provider_in_process(fixture_path("throws_in_create"));
  auto isolated_load = load_provider_isolated(fixture_path("throws_in_create"), fast_options());
  REQUIRE(in_process.ok());
  REQUIRE(isolated_load.ok());
  auto expected = (*in_process)->create(nlohmann::json::object(), "h");
  auto got = (*isolated_load)->create(nlohmann::json::object(), "h");
  REQUIRE_FALSE(expected.ok());
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == "create_failed");
  CHECK(got.error().message == expected.error().message);
}

TEST_CASE("a runner stopped while a call hangs is killed after the grace period", "[isolation][runner][shutdown]") {
  TempDir markers("gatehouse-iso-markers");
  RunnerCommand command;
  command.runner = runner_path();
  command.provider = fixture_path("hang_in_grant");
  command.grace = 300ms;
  auto runner = RunnerProcess::start(command, "hang test", std::chrono::steady_clock::now() + 5s);
  REQUIRE(runner.ok());
  auto& process = **runner;
  REQUIRE(process.request(FrameKind::describe, 0, {}, 5s).ok());
  pb::ConfigureRequest configure;
  configure.set_config_json(nlohmann::json{{"marker_dir", markers.path()}}.dump());
  REQUIRE(process.request(FrameKind::create, 1, configure.SerializeAsString(), 5s).ok());

  pb::Request hang;
  *hang.mutable_grant() = thing_grant("g-hang", "boom");
  Result<std::string> in_flight = make_error(gatehouse::host::ErrorCode::internal_error, "not run");
  std::thread caller([&] { in_flight = process.request(FrameKind::invoke, 1, hang.SerializeAsString(), 30s); });
  // The call is inside the provider (its Grant left its marker) before the runner is asked to stop.
  const bool hanging = eventually([&] { return std::filesystem::exists(markers.path() + "/g-hang"); });

  const auto started = std::chrono::steady_clock::now();
  process.shutdown();
  const auto took = std::chrono::steady_clock::now() - started;
  caller.join();
  REQUIRE(hanging);
  CHECK(took >= 300ms);  // the grace period was given; the kill at its end is the sentence below
  CHECK_FALSE(process_exists(process.pid()));
  REQUIRE(process.exit_info().has_value());
  CHECK(WIFSIGNALED(process.exit_info()->wait_status));
  REQUIRE_FALSE(in_flight.ok());
  CHECK(in_flight.error().code == "transport_failed");
  CHECK_THAT(in_flight.error().message,
             Catch::Contains("died with signal 9 (Killed) during a call") &&
                 Catch::Contains("killed by the host: it did not exit within 300 ms of being asked to stop"));
}

TEST_CASE("an idle runner stops gracefully: its instance destroyed, exit status 0", "[isolation][runner][shutdown]") {
  TempDir state("gatehouse-iso-state");
  RunnerCommand command;
  command.runner = runner_path();
  command.provider = demo_provider_path();
  auto runner = RunnerProcess::start(command, "graceful test", std::chrono::steady_clock::now() + 5s);
  REQUIRE(runner.ok());
  auto& process = **runner;
  pb::ConfigureRequest configure;
  configure.set_config_json(demo_config(state).dump());
  REQUIRE(process.request(FrameKind::create, 7, configure.SerializeAsString(), 5s).ok());

  SECTION("an unknown instance is an error, not a crash") {
    pb::Request health;
    health.mutable_check_health();
    auto reply = process.request(FrameKind::invoke, 8, health.SerializeAsString(), 5s);
    REQUIRE_FALSE(reply.ok());
    CHECK_THAT(reply.error().message, Catch::Contains("no instance 8"));
  }
  SECTION("destroy, then stop") {
    REQUIRE(process.request(FrameKind::destroy, 7, {}, 5s).ok());
  }
  process.shutdown();
  REQUIRE(process.exit_info().has_value());
  // It exited by itself (status 0, below), not killed when the grace period ran out.
  CHECK(process.exit_info()->killed_because.empty());
  CHECK(process.exit_info()->requested);
  CHECK(WIFEXITED(process.exit_info()->wait_status));
  CHECK(WEXITSTATUS(process.exit_info()->wait_status) == 0);
  auto after = process.request(FrameKind::describe, 0, {}, 1s);
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().code == "transport_failed");
}
