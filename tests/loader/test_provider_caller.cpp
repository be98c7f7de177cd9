// Provider calls with deadlines (issue 14 item 3): ProviderCaller's pool, its ledger of abandoned in-process
// calls (a hung provider holds one thread, not one per call) and the caller's-thread path of clients that end
// their calls at the deadline; the deadline on the wire, as the SDK hands it to a real provider .so.
#include "loader/dll_loader.hpp"
#include "loader/provider_caller.hpp"
#include "loader/provider_calls.hpp"
#include "paths.hpp"
#include "run_process.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

using namespace gatehouse::host;
using namespace std::chrono_literals;

namespace {

// A client whose calls block until released; counts the calls that reached it and where they ran.
class GateClient final : public ProviderClient {
 public:
  explicit GateClient(bool enforces = false) : enforces_(enforces) {}
  Result<std::string> call(std::string_view, CallDeadline) override {
    ++calls;
    std::unique_lock lock(mutex_);
    last_thread_ = std::this_thread::get_id();
    open_cv_.wait(lock, [&] { return open_; });
    return std::string();
  }
  bool enforces_deadline() const override { return enforces_; }
  void release() {
    std::lock_guard lock(mutex_);
    open_ = true;
    open_cv_.notify_all();
  }
  std::thread::id last_thread() {
    std::lock_guard lock(mutex_);
    return last_thread_;
  }
  std::atomic<int> calls{0};

 private:
  std::thread::id last_thread_;
  bool enforces_;
  std::mutex mutex_;
  std::condition_variable open_cv_;
  bool open_ = false;
};

Result<std::string> raw(ProviderClient& c, CallDeadline deadline) { return c.call("", deadline); }

// Waits for `what` with a deadline for a stuck test only (never an upper bound on the product).
bool eventually(const std::function<bool()>& what) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    if (what()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return what();
}

}  // namespace

TEST_CASE("a hung in-process provider holds one thread: later calls are refused until it returns", "[loader][caller]") {
  ProviderCaller caller;
  auto hung = std::make_shared<GateClient>();
  auto first = caller.call<std::string>("h", hung, raw, deadline_in(50ms), "Grant");
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().code == ErrorCode::deadline_exceeded);
  CHECK_THAT(first.error().message, Catch::StartsWith("Grant did not answer within ") && Catch::EndsWith(" ms"));
  CHECK(caller.abandoned("h") == 1);
  CHECK(caller.abandoned_total() == 1);

  for (int i = 0; i < 5; ++i) {
    auto refused = caller.call<std::string>("h", hung, raw, deadline_in(50ms), "health check");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::deadline_exceeded);
    CHECK_THAT(refused.error().message,
               Catch::StartsWith("health check was not sent: 1 earlier call to handler 'h' passed its deadline and "
                                 "has not returned for "));
  }
  CHECK(hung->calls == 1);         // the refused calls never reached the provider
  CHECK(caller.threads() == 1);    // and took no thread

  // Another handler is served meanwhile.
  auto other = std::make_shared<GateClient>();
  other->release();
  CHECK(caller.call<std::string>("other", other, raw, deadline_in(60s), "Grant").ok());

  // Once the hung call returns, the handler is called again.
  hung->release();
  REQUIRE(eventually([&] { return caller.abandoned("h") == 0; }));
  CHECK(caller.call<std::string>("h", hung, raw, deadline_in(60s), "Grant").ok());
  CHECK(hung->calls == 2);
}

TEST_CASE("the ledger's limit per handler is a setting", "[loader][caller]") {
  ProviderCaller caller(ProviderCallerOptions{8, 2});
  auto hung = std::make_shared<GateClient>();
  CHECK_FALSE(caller.call<std::string>("h", hung, raw, deadline_in(20ms), "Load(users)").ok());
  CHECK_FALSE(caller.call<std::string>("h", hung, raw, deadline_in(20ms), "Load(users)").ok());
  CHECK(hung->calls == 2);
  auto refused = caller.call<std::string>("h", hung, raw, deadline_in(20ms), "Load(users)");
  CHECK_THAT(refused.error().message, Catch::Contains("2 earlier calls to handler 'h'"));
  CHECK(hung->calls == 2);
  hung->release();
  REQUIRE(eventually([&] { return caller.abandoned("h") == 0; }));
}

TEST_CASE("a client that ends its calls at the deadline is called on the caller's thread", "[loader][caller]") {
  ProviderCaller caller;
  auto isolated = std::make_shared<GateClient>(/*enforces=*/true);
  isolated->release();
  CHECK(caller.call<std::string>("h", isolated, raw, deadline_in(60s), "Grant").ok());
  CHECK(isolated->last_thread() == std::this_thread::get_id());
  CHECK(caller.threads() == 0);
}

TEST_CASE("what a call throws becomes internal_error", "[loader][caller]") {
  ProviderCaller caller;
  auto client = std::make_shared<GateClient>();
  client->release();
  auto thrown = caller.call<std::string>(
      "h", client, [](ProviderClient&, CallDeadline) -> Result<std::string> { throw std::runtime_error("boom"); },
      deadline_in(60s), "Grant");
  REQUIRE_FALSE(thrown.ok());
  CHECK(thrown.error().code == ErrorCode::internal_error);
  CHECK(thrown.error().message == "the call threw: boom");
}

TEST_CASE("a provider reads the call's deadline through the SDK", "[loader][caller][sdk]") {
  auto module = load_provider_in_process(gatehouse::test::fixture_path("scripted_provider"));
  REQUIRE(module.ok());
  gatehouse::test::TempDir state("gatehouse-deadline");
  auto client = (*module)->create(nlohmann::json{{"state_dir", state.path()}}, "h");
  REQUIRE(client.ok());
  REQUIRE(check_health(**client, deadline_in(600s)).ok());
  REQUIRE(check_health(**client, CallDeadline::max()).ok());  // none given: the provider sees none
  std::ifstream log(state.path() + "/deadlines.log");
  std::string call, left;
  REQUIRE(log >> call >> left);
  CHECK(call == "check_health");
  const long long ms = std::stoll(left);
  CHECK(ms > 0);
  CHECK(ms <= 600'000);
  REQUIRE(log >> call >> left);
  CHECK(left == "none");
}
