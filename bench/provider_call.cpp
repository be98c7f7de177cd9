// One small Grant round trip through the demo provider loaded as a shared object (dlopen, C ABI, protobuf
// bytes both ways), against the same vtable linked into this executable (no dlopen): the difference is
// what loading a provider costs per call.
//
// Two request shapes:
//   Rejected — a grant id the provider refuses before any I/O: pure call overhead (serialize, dispatch,
//              validate, Status response, parse). The goal (≤ 1 µs in process) applies here.
//   Repeat   — an idempotent repeat of a recorded grant: the provider reads its record from disk.
#include "loader/dll_loader.hpp"
#include "loader/in_process_client.hpp"
#include "loader/provider_calls.hpp"

#include <gatehouse/abi.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

extern "C" const gatehouse_provider_vtable* gatehouse_provider_v1(void);  // the linked-in demo provider

namespace {

using namespace gatehouse::host;

std::string make_state_dir() {
  std::string dir = (std::filesystem::temp_directory_path() / "gatehouse-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::abort();
  return dir;
}

const nlohmann::json& config() {
  static const nlohmann::json c = {{"state_dir", make_state_dir()}, {"token", "bench-token-123"}};
  return c;
}

pb::GrantRequest request(const std::string& grant_id) {
  pb::GrantRequest r;
  r.set_grant_id(grant_id);
  r.set_subject("alice@example.com");
  r.mutable_target()->set_kind("ProjectRole");
  (*r.mutable_target()->mutable_properties())["project"] = "apollo";
  (*r.mutable_target()->mutable_properties())["role"] = "viewer";
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return r;
}

// The loaded demo.so, configured once.
ProviderClient& loaded_client() {
  static std::unique_ptr<ProviderClient> client = [] {
    auto module = load_provider_in_process(std::string(GATEHOUSE_BINARY_DIR) + "/plugins/demo/demo.so");
    if (!module) std::abort();
    auto c = (*module)->create(config(), "bench");
    if (!c) std::abort();
    return std::move(*c);
  }();
  return *client;
}

// The same provider code, its vtable called directly.
ProviderClient& linked_client() {
  static std::unique_ptr<ProviderClient> client = [] {
    const gatehouse_provider_vtable* vtable = gatehouse_provider_v1();
    pb::ConfigureRequest configure;
    configure.set_config_json(config().dump());
    auto instance = create_instance(vtable, configure.SerializeAsString(), "linked demo");
    if (!instance) std::abort();
    return make_in_process_client(nullptr, vtable, *instance, "linked demo");
  }();
  return *client;
}

void run(benchmark::State& state, ProviderClient& client, const pb::GrantRequest& grant_request, bool expect_ok) {
  pb::Request r;
  *r.mutable_grant() = grant_request;
  for (auto _ : state) {
    auto response = invoke(client, r, "demo");
    if (response.ok() != expect_ok) {
      state.SkipWithError("unexpected outcome");
      break;
    }
    benchmark::DoNotOptimize(response);
  }
}

void BM_GrantRejected_LoadedSO(benchmark::State& s) { run(s, loaded_client(), request("../not-an-id"), false); }
void BM_GrantRejected_Linked(benchmark::State& s) { run(s, linked_client(), request("../not-an-id"), false); }

void BM_GrantRepeat_LoadedSO(benchmark::State& s) {
  (void)grant(loaded_client(), request("bench-loaded"));
  run(s, loaded_client(), request("bench-loaded"), true);
}
void BM_GrantRepeat_Linked(benchmark::State& s) {
  (void)grant(linked_client(), request("bench-linked"));
  run(s, linked_client(), request("bench-linked"), true);
}

BENCHMARK(BM_GrantRejected_LoadedSO);
BENCHMARK(BM_GrantRejected_Linked);
BENCHMARK(BM_GrantRepeat_LoadedSO);
BENCHMARK(BM_GrantRepeat_Linked);

}  // namespace

BENCHMARK_MAIN();
