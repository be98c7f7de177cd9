// The small Grant round trip in isolation mode (through gatehouse-provider-runner: socket, frames, another
// process) against the same call in process (dlopen, C ABI). Each call is timed on its own with steady_clock
// (Google Benchmark reports means only) and the driver prints p50 / p90 / p99 / p99.9 / max per row, plus the
// throughput of several callers sharing one isolated client.
//
//   bench_isolation_call [--calls N] [--threads T] [--runner-threads R]
//
// Rows: hello (Grant repeat answered from memory: the smallest real Grant) and demo (Grant repeat, which the
// demo answers after re-reading its record from disk under a file lock), each in process and isolated.
#include "isolation/isolated_module.hpp"
#include "loader/dll_loader.hpp"
#include "loader/provider_calls.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace gatehouse::host;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "bench setup failed: " << what << '\n';
  std::exit(1);
}

struct StateDir {
  std::string path = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "gatehouse-bench-iso-XXXXXX").string();
    if (mkdtemp(dir.data()) == nullptr) std::abort();
    return dir;
  }();
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

struct Provider {
  std::string name;
  std::string path;
  nlohmann::json config;
  pb::GrantRequest grant;
};

Provider hello() {
  pb::GrantRequest r;
  r.set_grant_id("bench-1");
  r.set_subject("alice@example.com");
  r.mutable_target()->set_kind("Room");
  (*r.mutable_target()->mutable_properties())["room"] = "lobby";
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return {"hello", BENCH_HELLO_SO, {{"api_key", "k"}}, r};
}

Provider demo(const StateDir& state) {
  pb::GrantRequest r;
  r.set_grant_id("bench-1");
  r.set_subject("alice@example.com");
  r.mutable_target()->set_kind("ProjectRole");
  (*r.mutable_target()->mutable_properties())["project"] = "apollo";
  (*r.mutable_target()->mutable_properties())["role"] = "viewer";
  r.set_starts_at_unix_ms(1'700'000'000'000);
  r.set_ends_at_unix_ms(1'700'003'600'000);
  return {"demo", BENCH_DEMO_SO, {{"state_dir", state.path}, {"token", "bench-token-123"}}, r};
}

unsigned runner_threads = 8;

std::unique_ptr<ProviderClient> client_for(const Provider& p, bool isolated) {
  IsolationOptions options;
  options.runner_path = BENCH_RUNNER;
  options.runner_threads = runner_threads;
  auto module = isolated ? load_provider_isolated(p.path, options) : load_provider_in_process(p.path);
  if (!module) fail(module.error().describe());
  auto client = (*module)->create(p.config, "bench");
  if (!client) fail(client.error().describe());
  // The module may go: clients keep what they need (the library, or the runner's supervisor).
  return std::move(*client);
}

double percentile(const std::vector<double>& sorted, double p) {
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

void row(const Provider& p, bool isolated, int calls) {
  auto client = client_for(p, isolated);
  pb::Request request;
  *request.mutable_grant() = p.grant;
  if (!invoke(*client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok()) fail("the first grant failed");  // records it; the rest are repeats
  for (int i = 0; i < calls / 10; ++i) (void)invoke(*client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));  // warm up
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    auto response = invoke(*client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
    const auto end = Clock::now();
    if (!response.ok()) fail(response.error().message);
    us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  double sum = 0;
  for (double v : us) sum += v;
  std::sort(us.begin(), us.end());
  std::printf("| %s | %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", p.name.c_str(),
              isolated ? "isolated" : "in process", calls, sum / static_cast<double>(calls), percentile(us, 0.50),
              percentile(us, 0.90), percentile(us, 0.99), percentile(us, 0.999), us.back());
}

void throughput(const Provider& p, int threads, int calls) {
  auto client = client_for(p, /*isolated=*/true);
  pb::Request request;
  *request.mutable_grant() = p.grant;
  (void)invoke(*client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30)));
  std::atomic<int> failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < calls; ++i) {
        if (!invoke(*client, request, ::gatehouse::host::deadline_in(std::chrono::seconds(30))).ok()) ++failures;
      }
    });
  }
  for (auto& c : callers) c.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%s isolated, %d callers x %d calls: %.0f calls/s (%d failed)\n", p.name.c_str(), threads, calls,
              threads * calls / seconds, failures.load());
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 20000;
  int threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--calls") calls = std::max(100, std::atoi(argv[i + 1]));
    if (flag == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--runner-threads") runner_threads = static_cast<unsigned>(std::max(1, std::atoi(argv[i + 1])));
  }
  StateDir state;
  const Provider providers[] = {hello(), demo(state)};
  std::printf("| provider | mode | calls | mean µs | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& p : providers) {
    row(p, false, calls);
    row(p, true, calls);
  }
  std::printf("\n");
  for (const auto& p : providers) throughput(p, threads, calls / threads);
  return 0;
}
