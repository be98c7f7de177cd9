// The same checks for the demo provider loaded in process and isolated: callers cannot tell them apart.
#include "isolation_support.hpp"

#include "schema/provider_schema.hpp"

#include <gatehouse/abi.h>

#include <filesystem>
#include <future>
#include <set>

using namespace isolation_test;

namespace {

void conformance(ProviderModule& module) {
  const auto& id = module.identity();
  CHECK(id.reference() == "gatehouse/demo@1.0.0");
  CHECK(id.abi_major == GATEHOUSE_ABI_MAJOR);
  CHECK(module.schema()["$id"] == "urn:gatehouse:provider:gatehouse/demo:1.0.0");
  CHECK(validate_provider_schema(module.schema()).ok());
  CHECK(std::filesystem::path(module.path()).is_absolute());

  TempDir state("gatehouse-iso-conformance");
  auto created = module.create(demo_config(state, /*page_size=*/1), "h-conformance");
  REQUIRE(created.ok());
  ProviderClient& client = **created;

  pb::Request describe;
  describe.mutable_describe();
  auto described = invoke(client, describe, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(described.ok());
  CHECK(described->describe().name() == "demo");

  auto health = check_health(client, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(health.ok());
  CHECK(health->healthy());

  auto granted = grant(client, project_grant("g-1"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(granted.ok());
  CHECK_FALSE(granted->state().empty());
  CHECK(std::filesystem::exists(state.path() + "/grants/g-1.json"));

  pb::Request repeat;
  *repeat.mutable_grant() = project_grant("g-1");
  auto again = invoke(client, repeat, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(again.ok());
  CHECK(again->status().code() == pb::Status::ALREADY_EXISTS);
  CHECK(again->grant().state() == granted->state());

  auto refused = grant(client, project_grant("g-2", "no-such-project"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "invalid_argument");
  REQUIRE_FALSE(refused.error().diagnostics.empty());
  CHECK(refused.error().diagnostics.front().path == "/target/project");

  pb::RevokeRequest revoke_request;
  revoke_request.set_grant_id("g-1");
  revoke_request.set_subject("alice@example.com");
  *revoke_request.mutable_target() = project_grant("g-1").target();
  revoke_request.set_state(granted->state());
  REQUIRE(revoke(client, revoke_request, ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());
  CHECK_FALSE(std::filesystem::exists(state.path() + "/grants/g-1.json"));
  pb::Request revoke_again;
  *revoke_again.mutable_revoke() = revoke_request;
  auto second = invoke(client, revoke_again, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(second.ok());
  CHECK(second->status().code() == pb::Status::ALREADY_REVOKED);

  // Paging: page_size 1 makes every user its own page.
  std::set<std::string> users;
  std::string token;
  int pages = 0;
  do {
    pb::LoadRequest page_request;
    page_request.set_loader("fetch_users");
    page_request.set_page_token(token);
    auto page = load(client, page_request, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    REQUIRE(page.ok());
    CHECK(page->resources_size() == 1);
    for (const auto& r : page->resources()) CHECK(users.insert(r.id()).second);
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 100);
  CHECK(users == std::set<std::string>{"alice", "bob", "carol", "dave"});

  // Calls overlap: replies find their callers by request id.
  std::vector<std::future<bool>> callers;
  for (int t = 0; t < 4; ++t) {
    callers.push_back(std::async(std::launch::async, [&client, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = grant(client, project_grant(id), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
        if (!r.ok() || r->state().find("grants/" + id + ".json") == std::string::npos) return false;
      }
      return true;
    }));
  }
  for (auto& c : callers) CHECK(c.get());
}

}  // namespace

TEST_CASE("conformance: the demo provider in process", "[isolation][conformance]") {
  auto module = load_provider_in_process(demo_provider_path());
  REQUIRE(module.ok());
  conformance(**module);
}

TEST_CASE("conformance: the demo provider isolated", "[isolation][conformance]") {
  auto module = load_provider_isolated(demo_provider_path(), fast_options());
  REQUIRE(module.ok());
  CHECK(dynamic_cast<IsolatedModule*>(module->get()) != nullptr);
  conformance(**module);
}

TEST_CASE("large requests and responses cross the socket whole - oversized ones are refused", "[isolation][wire]") {
  auto module = load_provider_isolated(hello_provider_path(), fast_options());
  REQUIRE(module.ok());
  auto client = (*module)->create({{"api_key", "k"}}, "h-large");
  REQUIRE(client.ok());

  pb::GrantRequest big;
  big.set_grant_id("g-big");
  big.set_subject("alice@example.com");
  big.mutable_target()->set_kind("Room");
  std::string room(5 << 20, 'r');  // 5 MiB: many socket buffers' worth each way
  room[12345] = 'x';
  (*big.mutable_target()->mutable_properties())["room"] = room;
  auto granted = grant(**client, big, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE(granted.ok());
  CHECK(granted->state() == room);

  std::string oversized(kMaxFramePayload + 1, '\0');
  auto refused = (*client)->call(oversized, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "request_too_large");
  CHECK_FALSE(is_retryable(refused.error()));
  CHECK(check_health(**client, ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok());  // the connection is still in step
}
