// Concurrent calls, as the host makes them: grants of one membership from many threads and handlers create
// it exactly once, and grants that all need a new subject's login create that login once. Results are
// collected and checked on the main thread (Catch2 assertions are not thread-safe).
#include "pg_provider_fixture.hpp"

#include <functional>
#include <thread>

using namespace pg_test;
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

}  // namespace

TEST_CASE("postgres concurrent grants of one membership create it exactly once") {
  Scenario pg("concurrent_one");
  std::vector<Instance> handlers;
  for (int i = 0; i < kThreads; ++i) handlers.push_back(pg_provider().create(pg.config()));
  const auto request = grant_request("shared", "alice@example.com", pg.target("app_readers"));

  const auto results = in_parallel([&](int i) { return handlers[i].grant(request); });
  int created = 0;
  for (const auto& r : results) {
    INFO(gatehouse::code_name(r.code) << ": " << r.message);
    CHECK(r.ok());
    if (r.code == Code::ok) ++created;
    CHECK(parsed(r.result.state)["pre_existing"] == false);  // the ones that lost the race still own it
  }
  CHECK(created == 1);
  CHECK(pg.admin.is_member("app_readers", "alice@example.com"));
}

TEST_CASE("postgres concurrent grants for a new subject create its login once") {
  Scenario pg("concurrent_login");
  const std::string subject = "fresh@example.com";
  pg.admin.drop_role(subject);
  auto instance = pg_provider().create(pg.config({{"create_logins", true}}));

  // Half the threads ask for app_readers, half for app_writers: two memberships, one login.
  const auto results = in_parallel([&](int i) {
    const std::string role = i % 2 ? "app_readers" : "app_writers";
    return instance.grant(grant_request("c-" + std::to_string(i), subject, pg.target(role)));
  });
  int created = 0;
  for (const auto& r : results) {
    INFO(gatehouse::code_name(r.code) << ": " << r.message);
    CHECK(r.ok());
    if (r.code == Code::ok) ++created;
  }
  CHECK(created == 2);
  CHECK(pg.admin.is_member("app_readers", subject));
  CHECK(pg.admin.is_member("app_writers", subject));
  pg.admin.clear_memberships(subject);
}
