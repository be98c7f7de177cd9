// Concurrent grants: from threads of one handler, from several handlers and from several processes
// sharing one state directory. Results are collected and checked on the main thread (Catch2 assertions
// are not thread-safe).
#include "demo_fixture.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <thread>

using namespace demo_test;
using gatehouse::GrantResult;
using gatehouse::testing::Call;
using gatehouse::testing::Instance;

namespace {

constexpr int kThreads = 8;

std::vector<Call<GrantResult>> in_parallel(const std::function<Call<GrantResult>(int)>& call) {
  std::vector<Call<GrantResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back([&, i] { results[i] = call(i); });
  for (auto& t : threads) t.join();
  return results;
}

// All calls succeeded, exactly one of them created the grant, and one record and one event exist.
void check_granted_once(const std::vector<Call<GrantResult>>& results, const fs::path& state_dir) {
  int created = 0;
  for (const auto& r : results) {
    CHECK(r.ok());
    if (r.code == Code::ok) ++created;
    CHECK(r.result.state == results.front().result.state);
  }
  CHECK(created == 1);
  CHECK(grant_files(state_dir) == std::vector<std::string>{"shared.json"});
  CHECK(events(state_dir).size() == 1);
}

}  // namespace

TEST_CASE("demo concurrent grants on distinct ids all land") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto results = in_parallel([&](int i) {
    const auto id = "t-" + std::to_string(i);
    return instance.grant(grant_request(id, "alice@example.com", project_role("apollo", "viewer")));
  });
  for (const auto& r : results) CHECK(r.code == Code::ok);
  CHECK(grant_files(dir.path()).size() == kThreads);
  const auto log = events(dir.path());  // each line parses: appends did not interleave
  CHECK(log.size() == kThreads);
}

TEST_CASE("demo concurrent grants on one id create it exactly once") {
  TempDir dir;
  auto instance = demo_provider().create(config_for(dir.path()));
  const auto request = grant_request("shared", "bob@example.com", project_role("zephyr", "editor"));
  check_granted_once(in_parallel([&](int) { return instance.grant(request); }), dir.path());
}

TEST_CASE("demo handlers sharing a state directory create a grant exactly once") {
  TempDir dir;
  std::vector<Instance> handlers;
  for (int i = 0; i < kThreads; ++i) handlers.push_back(demo_provider().create(config_for(dir.path())));
  const auto request = grant_request("shared", "bob@example.com", project_role("zephyr", "editor"));
  check_granted_once(in_parallel([&](int i) { return handlers[i].grant(request); }), dir.path());
}

TEST_CASE("demo processes sharing a state directory create a grant exactly once") {
  TempDir dir;
  const auto request = grant_request("shared", "carol@example.com", project_role("apollo", "admin"));
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // The child reports through its exit status only and never returns into Catch.
      int status = 3;
      try {
        auto instance = demo_provider().create(config_for(dir.path()));
        const auto granted = instance.grant(request);
        status = granted.code == Code::ok ? 0 : granted.code == Code::already_exists ? 1 : 2;
      } catch (...) {
      }
      ::_exit(status);
    }
    children.push_back(pid);
  }
  int created = 0, existed = 0;
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 0) ++created;
    if (WEXITSTATUS(status) == 1) ++existed;
  }
  CHECK(created == 1);
  CHECK(existed == 3);
  CHECK(grant_files(dir.path()) == std::vector<std::string>{"shared.json"});
  CHECK(events(dir.path()).size() == 1);
}
