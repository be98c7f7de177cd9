// Supervision: crashes, exits, hangs and leaks in a provider cost one runner process, never the host; calls in
// flight fail as retryable with a sentence saying what happened; the runner comes back with its instance.
#include "isolation_support.hpp"

#include <atomic>
#include <filesystem>
#include <future>
#include <set>

using namespace isolation_test;

namespace {

struct Isolated {
  std::shared_ptr<ProviderModule> module;
  std::unique_ptr<ProviderClient> client;
  IsolatedClient& iso() { return isolated(*client); }
};

Isolated start(const std::string& path, const IsolationOptions& options, const nlohmann::json& config,
               const std::string& handler) {
  auto module = load_provider_isolated(path, options);
  REQUIRE(module.ok());
  auto client = (*module)->create(config, handler);
  REQUIRE(client.ok());
  return {std::move(*module), std::move(*client)};
}

Isolated start_fixture(const std::string& mode, const IsolationOptions& options, const std::string& handler) {
  return start(fixture_path(mode), options, nlohmann::json::object(), handler);
}

}  // namespace

TEST_CASE("a segfault in a call fails it as retryable with what happened - the runner comes back",
          "[isolation][supervision]") {
  HealthLog log;
  auto options = fast_options();
  options.on_health = log.callback();
  auto p = start_fixture("crash_in_grant", options, "h-crash");
  REQUIRE(grant(*p.client, thing_grant("g-1", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  const pid_t first = p.iso().health().pid;
  CHECK(first > 0);

  auto crashed = grant(*p.client, thing_grant("g-2", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(crashed.ok());
  CHECK(crashed.error().code == "transport_failed");
  CHECK(is_retryable(crashed.error()));
  CHECK_THAT(crashed.error().message,
             Catch::StartsWith("provider runner for fixture/crash-in-grant@1.0.0 handler 'h-crash' (pid " +
                               std::to_string(first) + ")") &&
                 Catch::Contains("died with signal 11 (Segmentation fault) during a call"));
  // Unhealthy at once, with the reason; then restarted with its instance re-created from the stored config.
  CHECK(log.saw_unhealthy("h-crash", "died with signal 11 (Segmentation fault)"));
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  const auto health = p.iso().health();
  CHECK(health.pid != first);
  CHECK(health.restarts == 1);
  CHECK_THAT(health.reason, Catch::Contains("restarted") && Catch::Contains("signal 11"));
  CHECK(log.saw_healthy_after_restart("h-crash"));
  CHECK_FALSE(process_exists(first));
  REQUIRE(grant(*p.client, thing_grant("g-3", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("an abort or an exit in a call is named the same way", "[isolation][supervision]") {
  auto [mode, words] = GENERATE(table<std::string, std::string>({
      {"abort_in_grant", "died with signal 6 (Aborted) during a call"},
      {"exit_in_grant", "exited with status 3 during a call"},
  }));
  INFO(mode);
  auto p = start_fixture(mode, fast_options(), "h-" + mode);
  auto failed = grant(*p.client, thing_grant("g-1", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == "transport_failed");
  CHECK_THAT(failed.error().message, Catch::Contains(words));
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK(grant(*p.client, thing_grant("g-2", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("every call in flight when the runner dies fails retryable, none hangs", "[isolation][supervision]") {
  TempDir markers("gatehouse-iso-markers");
  auto options = fast_options();
  options.call_timeout = 120s;  // only the crash ends the slow calls, however late it comes
  auto p = start(fixture_path("crash_in_grant"), options, {{"marker_dir", markers.path()}}, "h-flight");
  std::vector<std::future<Result<pb::GrantResponse>>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::async(std::launch::async, [&, i] {
      return grant(*p.client, thing_grant("slow-" + std::to_string(i), "slow"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    }));
  }
  // The slow grants are inside the provider (each left its marker; they take 60 s) before the crash.
  REQUIRE(eventually([&] {
    for (int i = 0; i < 3; ++i)
      if (!std::filesystem::exists(markers.path() + "/slow-" + std::to_string(i))) return false;
    return true;
  }));
  auto crashed = grant(*p.client, thing_grant("g-boom", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(crashed.ok());
  for (auto& f : slow) {
    // Well before the slow grants would have finished by themselves: they failed with the runner.
    REQUIRE(f.wait_for(30s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "transport_failed");
    CHECK(is_retryable(r.error()));
    CHECK_THAT(r.error().message, Catch::Contains("died with signal 11 (Segmentation fault) during a call"));
  }
}

TEST_CASE("the demo provider survives a SIGKILL of its runner and keeps granting", "[isolation][supervision]") {
  HealthLog log;
  auto options = fast_options();
  options.on_health = log.callback();
  TempDir state("gatehouse-iso-demo");
  auto p = start(demo_provider_path(), options, demo_config(state), "h-demo");
  auto first = grant(*p.client, project_grant("g-1"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(first.ok());
  const pid_t pid = p.iso().health().pid;
  REQUIRE(pid > 0);  // kill(0, ...) would signal our own process group
  REQUIRE(::kill(pid, SIGKILL) == 0);
  CHECK(eventually([&] { return log.saw_unhealthy("h-demo", "died with signal 9 (Killed) while idle"); }));
  REQUIRE(eventually([&] { return p.iso().health().healthy && p.iso().health().pid != pid; }));

  // The demo keeps grants on disk: the new runner's instance knows g-1.
  pb::Request repeat;
  *repeat.mutable_grant() = project_grant("g-1");
  auto again = invoke(*p.client, repeat, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(again.ok());
  CHECK(again->status().code() == pb::Status::ALREADY_EXISTS);
  CHECK(again->grant().state() == first->state());
  CHECK(grant(*p.client, project_grant("g-2"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("a runner that keeps dying stays down with a clear reason until restarted by hand",
          "[isolation][supervision]") {
  HealthLog log;
  auto options = fast_options();
  options.max_restarts = 2;
  options.on_health = log.callback();
  auto p = start_fixture("crash_in_grant", options, "h-limit");

  for (int death = 1; death <= 2; ++death) {
    INFO("death " << death);
    CHECK_FALSE(grant(*p.client, thing_grant("g", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
    // While it waits for its backoff, calls fail at once, retryable, saying why.
    auto meanwhile = grant(*p.client, thing_grant("g", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    if (!meanwhile.ok()) {
      CHECK(meanwhile.error().code == "unavailable");
      CHECK(is_retryable(meanwhile.error()));
    }
    REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  }
  CHECK_FALSE(grant(*p.client, thing_grant("g", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  const auto health = p.iso().health();
  CHECK(health.state == RunnerState::down);
  CHECK_FALSE(health.healthy);
  CHECK(health.pid == 0);
  CHECK_THAT(health.reason, Catch::Contains("died with signal 11 (Segmentation fault) during a call") &&
                                Catch::Contains("it stays down: it was already restarted 2 times within 60 s"));
  CHECK(log.saw_unhealthy("h-limit", "it stays down"));
  // It really stays down: nothing to wait for here, so give a restart time to happen wrongly (longer than the
  // 200 ms max backoff) and see that none did.
  std::this_thread::sleep_for(300ms);
  CHECK(p.iso().health().state == RunnerState::down);
  auto refused = grant(*p.client, thing_grant("g", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "unavailable");
  CHECK(refused.error().message == health.reason);

  p.iso().restart_now();
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK(grant(*p.client, thing_grant("g", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("a call past its timeout kills the hung runner and fails as deadline_exceeded", "[isolation][supervision]") {
  auto options = fast_options();
  options.call_timeout = 300ms;
  auto p = start_fixture("hang_in_grant", options, "h-hang");
  const pid_t pid = p.iso().health().pid;

  const auto started = std::chrono::steady_clock::now();
  auto hung = grant(*p.client, thing_grant("g-1", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(hung.ok());
  CHECK(hung.error().code == "deadline_exceeded");
  CHECK(is_retryable(hung.error()));
  CHECK_THAT(hung.error().message, Catch::Contains("(pid " + std::to_string(pid) +
                                                   ") did not answer a call within 300 ms; the runner was killed"));
  CHECK(took >= 300ms);  // the deadline was honoured; that the runner was then killed is the sentence above
  CHECK(eventually([&] { return !process_exists(pid); }));
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK_THAT(p.iso().health().reason, Catch::Contains("killed by the host: a call exceeded its 300 ms deadline"));

  // The per-call timeout overrides the client's.
  pb::Request request;
  *request.mutable_grant() = thing_grant("g-2", "boom");
  auto short_call = p.iso().call(request.SerializeAsString(), ::gatehouse::host::deadline_in(100ms));
  REQUIRE_FALSE(short_call.ok());
  CHECK(short_call.error().code == "deadline_exceeded");
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK(grant(*p.client, thing_grant("g-3", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("a memory limit stops a leaking provider in its runner", "[isolation][supervision][limits]") {
  auto options = fast_options();
  options.memory_limit_bytes = std::uint64_t{256} << 20;  // the runner idles at ~80 MiB of address space
  options.call_timeout = 20s;
  auto p = start_fixture("leak_in_grant", options, "h-leak");
  CHECK(grant(*p.client, thing_grant("g-1", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  auto leaked = grant(*p.client, thing_grant("g-2", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(leaked.ok());
  CHECK(leaked.error().code == "transport_failed");
  CHECK_THAT(leaked.error().message, Catch::Contains("died with signal 6 (Aborted) during a call"));
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK(grant(*p.client, thing_grant("g-3", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("a CPU limit stops a spinning provider in its runner", "[isolation][supervision][limits]") {
  auto options = fast_options();
  options.cpu_limit = std::chrono::seconds(1);
  options.call_timeout = 20s;
  auto p = start_fixture("hang_spinning_in_grant", options, "h-spin");
  auto spun = grant(*p.client, thing_grant("g-1", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(spun.ok());
  CHECK(spun.error().code == "transport_failed");
  CHECK_THAT(spun.error().message, Catch::Contains("died with signal 24 (CPU time limit exceeded) during a call"));
  REQUIRE(eventually([&] { return p.iso().health().healthy; }));
  CHECK(grant(*p.client, thing_grant("g-2", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
}

TEST_CASE("killing the runner with SIGKILL and SIGSEGV during a load of grants loses none of them",
          "[isolation][supervision]") {
  auto options = fast_options();
  options.max_restarts = 10;
  TempDir state("gatehouse-iso-load");
  auto p = start(demo_provider_path(), options, demo_config(state), "h-load");

  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> done{0};
  std::atomic<int> retries{0};
  std::vector<std::future<std::vector<std::string>>> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.push_back(std::async(std::launch::async, [&, t] {
      std::vector<std::string> failures;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "load-" + std::to_string(t) + "-" + std::to_string(i);
        // What the router does with a retryable failure (here: the same handler again, after a pause).
        for (int attempt = 0;; ++attempt) {
          auto r = grant(*p.client, project_grant(id), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
          if (r.ok()) break;
          if (!is_retryable(r.error()) || attempt == 500) {
            failures.push_back(id + ": " + std::string(r.error().code_name()) + ": " + r.error().message);
            break;
          }
          ++retries;
          std::this_thread::sleep_for(10ms);
        }
        ++done;
      }
      return failures;
    }));
  }
  const int total = kThreads * kPerThread;
  pid_t killed = 0;
  for (auto [at, signal] : {std::pair{total / 5, SIGKILL}, std::pair{total / 2, SIGSEGV}, std::pair{4 * total / 5, SIGKILL}}) {
    REQUIRE(eventually([&] { return done.load() >= at; }, 30s));
    // A runner other than the one killed last, up and serving (pid 0 would signal our own process group).
    pid_t victim = 0;
    REQUIRE(eventually([&] {
      const auto health = p.iso().health();
      victim = health.pid;
      return health.healthy && victim > 0 && victim != killed;
    }));
    REQUIRE(::kill(victim, signal) == 0);
    killed = victim;
  }
  for (auto& w : workers) {
    for (const auto& failure : w.get()) FAIL_CHECK(failure);
  }
  CHECK(p.iso().health().restarts >= 3);
  // Every grant is recorded exactly once by the provider.
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(state.path() + "/grants")) {
    files.insert(entry.path().filename().string());
  }
  CHECK(files.size() == static_cast<std::size_t>(total));
  INFO("retries " << retries.load());
}

TEST_CASE("each handler has its own runner: a crash in one leaves the other serving", "[isolation][supervision]") {
  auto options = fast_options();
  auto module = load_provider_isolated(fixture_path("crash_in_grant"), options);
  REQUIRE(module.ok());
  auto a = (*module)->create(nlohmann::json::object(), "h-a");
  auto b = (*module)->create(nlohmann::json::object(), "h-b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const pid_t b_pid = isolated(**b).health().pid;
  CHECK(isolated(**a).health().pid != b_pid);
  CHECK_FALSE(grant(**a, thing_grant("g", "boom"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  CHECK(grant(**b, thing_grant("g", "calm"), ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  CHECK(isolated(**b).health().pid == b_pid);
  CHECK(isolated(**b).health().restarts == 0);
}

TEST_CASE("destroying the client stops its runner", "[isolation][supervision][shutdown]") {
  TempDir state("gatehouse-iso-stop");
  auto options = fast_options();
  // Graceful: the runner exits by itself when asked. A grace period longer than the wait below tells that apart
  // from a kill once the grace period ran out, whatever the machine's load.
  options.shutdown_grace = 90s;
  auto p = start(demo_provider_path(), options, demo_config(state), "h-stop");
  const pid_t pid = p.iso().health().pid;
  REQUIRE(process_exists(pid));
  auto stopping = std::async(std::launch::async, [&] { p.client.reset(); });
  INFO("the runner was asked to stop and did not exit within 60 s: it would be killed at the end of its grace period");
  REQUIRE(stopping.wait_for(60s) == std::future_status::ready);
  CHECK_FALSE(process_exists(pid));
}
