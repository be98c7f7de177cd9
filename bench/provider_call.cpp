// One small Grant round trip through a provider loaded as a shared object (dlopen, C ABI, protobuf bytes
// both ways), against the same provider's vtable linked into this executable (no dlopen): the difference
// is what loading a provider costs per call. Built twice (see CMakeLists.txt):
//
// bench_provider_call (the demo provider):
//   GrantRejected — a grant id the demo refuses before any I/O: serialize, dispatch, validate, throw and
//                   catch gatehouse::Error, Status response, parse.
//   GrantRepeat   — an idempotent repeat of a recorded grant: the demo re-reads its record from disk
//                   under its file lock (it never trusts memory over the state directory).
// bench_provider_call_hello (the README's minimal provider):
//   GrantRepeat   — an idempotent repeat answered from memory: the smallest real Grant round trip.
#include "loader/dll_loader.hpp"
#include "loader/in_process_client.hpp"
#include "loader/provider_calls.hpp"

#include <gatehouse/abi.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

extern "C" const gatehouse_provider_vtable* gatehouse_provider_v1(void);  // the linked-in provider

namespace {

using namespace gatehouse::host;

// A state directory for the demo provider, removed at exit.
struct StateDir {
  std::string path = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "gatehouse-bench-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) std::abort();
    return dir;
  }();
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

const nlohmann::json& config() {
  static StateDir state;
  static const nlohmann::json c = {{"state_dir", state.path}, {"token", "bench-token-123"}, {"api_key", "k"}};
  return c;
}

// Only the fields the provider under test declares: both reject unknown config at the host, not here.
nlohmann::json provider_config() {
#ifdef BENCH_PROVIDER_demo
  return {{"state_dir", config()["state_dir"]}, {"token", config()["token"]}};
#else
  return {{"api_key", config()["api_key"]}};
#endif
}

pb::GrantRequest request(const std::string& grant_id) {
  pb::GrantRequest r;
  r.set_grant_id(grant_id);
  r.set_subject("alice@example.com");
#ifdef BENCH_PROVIDER_demo
  r.mutable_target()->set_kind("ProjectRole");
  (*r.mutable_target()->mutable_properties())["project"] = "apollo";
  (*r.mutable_target()->mutable_properties())["role"] = "viewer";
#else
  r.mutable_target()->set_kind("Room");
  (*r.mutable_target()->mutable_properties())["room"] = "lobby";
#endif
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return r;
}

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "bench setup failed: " << what << '\n';
  std::exit(1);
}

ProviderClient& loaded_client() {
  static std::unique_ptr<ProviderClient> client = [] {
    auto module = load_provider_in_process(BENCH_PROVIDER_SO);
    if (!module) fail(module.error().describe());
    auto c = (*module)->create(provider_config(), "bench");
    if (!c) fail(c.error().describe());
    return std::move(*c);
  }();
  return *client;
}

ProviderClient& linked_client() {
  static std::unique_ptr<ProviderClient> client = [] {
    const gatehouse_provider_vtable* vtable = gatehouse_provider_v1();
    pb::ConfigureRequest configure;
    configure.set_config_json(provider_config().dump());
    auto instance = create_instance(vtable, configure.SerializeAsString(), "linked provider");
    if (!instance) fail(instance.error().describe());
    return make_in_process_client(nullptr, vtable, *instance, "linked provider");
  }();
  return *client;
}

void run(benchmark::State& state, ProviderClient& client, const pb::GrantRequest& grant_request, bool expect_ok) {
  pb::Request r;
  *r.mutable_grant() = grant_request;
  for (auto _ : state) {
    auto response = invoke(client, r, ::gatehouse::host::deadline_in(std::chrono::seconds(30)), "provider");
    if (response.ok() != expect_ok) {
      state.SkipWithError("unexpected outcome");
      break;
    }
    benchmark::DoNotOptimize(response);
  }
}

void GrantRepeat_LoadedSO(benchmark::State& s) {
  (void)grant(loaded_client(), request("bench-loaded"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  run(s, loaded_client(), request("bench-loaded"), true);
}
void GrantRepeat_Linked(benchmark::State& s) {
  (void)grant(linked_client(), request("bench-linked"), ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  run(s, linked_client(), request("bench-linked"), true);
}
BENCHMARK(GrantRepeat_LoadedSO);
BENCHMARK(GrantRepeat_Linked);

// The floor under any call: the same Request and a Response of the same shape serialized and parsed once
// each, with no provider and no C ABI in between.
void ProtobufOnly_RoundTrip(benchmark::State& s) {
  pb::Request r;
  *r.mutable_grant() = request("bench-protobuf");
  pb::Response response;
  response.mutable_status()->set_code(pb::Status::ALREADY_EXISTS);
  response.mutable_status()->set_message("grant already in place");
  response.mutable_grant()->set_state("{\"room\":\"lobby\"}");
  response.mutable_grant()->set_message("hello, alice@example.com");
  for (auto _ : s) {
    std::string request_bytes = r.SerializeAsString();
    pb::Request parsed_request;
    parsed_request.ParseFromString(request_bytes);
    std::string response_bytes = response.SerializeAsString();
    pb::Response parsed_response;
    parsed_response.ParseFromString(response_bytes);
    benchmark::DoNotOptimize(parsed_response);
  }
}
BENCHMARK(ProtobufOnly_RoundTrip);

#ifdef BENCH_PROVIDER_demo
void GrantRejected_LoadedSO(benchmark::State& s) { run(s, loaded_client(), request("../not-an-id"), false); }
void GrantRejected_Linked(benchmark::State& s) { run(s, linked_client(), request("../not-an-id"), false); }
BENCHMARK(GrantRejected_LoadedSO);
BENCHMARK(GrantRejected_Linked);
#endif

}  // namespace

BENCHMARK_MAIN();
