// Routing decision latency with 10,000 routes (issue 3, item 9: goal p99 ≤ 5 µs), and the table build time.
//
// Google Benchmark reports means; the goal is a percentile, so the driver times every decision on its own
// with std::chrono::steady_clock and reports p50 / p99 / p99.9 / max over 1,000,000 decisions per row.
// Each figure includes one steady_clock::now() (printed as "clock overhead" so it can be subtracted).
//
// Shapes (10% of handlers unhealthy, chosen at random with a fixed seed; ~5% of routes invalid, and a few
// with priority 0, so the filters do work):
//   spread     10,000 routes across 1,000 target groups (10 per group), 1,000 handlers
//   one-group  10,000 routes in ONE target group, 10,000 handlers (worst case for the walk)
//   one-group-top-down  the same table, but the unhealthy 10% are the highest-priority handlers: a decision
//              walks past ~1,000 unhealthy routes first (adversarial; shows what the walk costs)
// Health is asked two ways: a callable looking the id up in a hash set (HealthFunction), and HealthBitset.
//
//   bench_routing                      the percentile table (markdown, for bench/README.md)
//   bench_routing --decisions N        fewer/more decisions per row (the adversarial shape runs N/5)
//   bench_routing --gbench [gb flags]  the Google Benchmark variant (means, for comparison)
#include "routing/router.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

// Every allocation in the process is counted (routing_alloc_count.cpp, its own translation unit so the
// replaced operators are never inlined), to report allocations per decision: the hot path should do none.
std::uint64_t routing_bench_allocations();

namespace {

using namespace gatehouse::host::routing;
using Clock = std::chrono::steady_clock;

constexpr const char* kKind = "gatehouse/postgres/DatabaseRole";

struct Shape {
  std::string name;
  std::vector<Route> routes;
  std::vector<std::string> groups;    // the groups decisions are asked for
  std::vector<std::string> handlers;
  std::vector<std::string> unhealthy;
};

std::string numbered(const char* prefix, int i, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%0*d", prefix, width, i);
  return buf;
}

int route_priority(std::mt19937& rng) {
  // ~1% disabled, the rest 1–999.
  return std::uniform_int_distribution<int>(0, 99)(rng) == 0 ? 0 : std::uniform_int_distribution<int>(1, 999)(rng);
}
bool route_valid(std::mt19937& rng) { return std::uniform_int_distribution<int>(0, 19)(rng) != 0; }  // ~5% invalid

void pick_random_unhealthy(Shape& shape, std::mt19937& rng) {
  std::vector<std::string> shuffled = shape.handlers;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  shape.unhealthy.assign(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(shuffled.size() / 10));
}

Shape spread() {
  std::mt19937 rng(1);
  Shape s{"spread: 1,000 groups × 10 routes", {}, {}, {}, {}};
  for (int h = 0; h < 1000; ++h) s.handlers.push_back(numbered("handler-", h, 4));
  for (int g = 0; g < 1000; ++g) {
    s.groups.push_back(numbered("prod-databases-", g, 4));
    std::vector<std::string> picked = s.handlers;
    std::shuffle(picked.begin(), picked.end(), rng);
    for (int r = 0; r < 10; ++r)
      s.routes.push_back(Route{s.groups.back(), picked[r], kKind, route_priority(rng), route_valid(rng)});
  }
  pick_random_unhealthy(s, rng);
  return s;
}

Shape one_group(bool top_down) {
  std::mt19937 rng(2);
  Shape s{top_down ? "one group, top 10% of priorities unhealthy" : "one group: 10,000 routes", {}, {"all-databases"},
          {}, {}};
  for (int h = 0; h < 10000; ++h) {
    s.handlers.push_back(numbered("handler-", h, 5));
    s.routes.push_back(Route{s.groups[0], s.handlers.back(), kKind, route_priority(rng), route_valid(rng)});
  }
  if (!top_down) {
    pick_random_unhealthy(s, rng);
    return s;
  }
  std::vector<const Route*> by_priority;
  for (const auto& r : s.routes) by_priority.push_back(&r);
  std::sort(by_priority.begin(), by_priority.end(), [](const Route* a, const Route* b) { return a->priority > b->priority; });
  for (std::size_t i = 0; i < by_priority.size() / 10; ++i) s.unhealthy.push_back(by_priority[i]->handler);
  return s;
}

RoutingTable build_or_die(const std::vector<Route>& routes) {
  auto built = RoutingTable::build(routes);
  if (!built.ok()) {
    std::fprintf(stderr, "%s\n", built.error().describe().c_str());
    std::exit(1);
  }
  return std::move(built).value();
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using DownSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

struct Percentiles {
  double p50, p99, p999, max, mean;
};

Percentiles percentiles(std::vector<std::uint32_t>& ns) {
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return static_cast<double>(ns[std::min(ns.size() - 1, static_cast<std::size_t>(q * ns.size()))]); };
  double sum = 0;
  for (auto v : ns) sum += v;
  return {at(0.50), at(0.99), at(0.999), static_cast<double>(ns.back()), sum / static_cast<double>(ns.size())};
}

// Times `decide(group)` once per query; returns the per-decision durations in nanoseconds.
template <class Decide>
std::vector<std::uint32_t> time_each(const std::vector<std::string_view>& queries, Decide&& decide,
                                     std::uint64_t& allocations) {
  for (std::size_t i = 0; i < std::min<std::size_t>(queries.size(), 10000); ++i) decide(queries[i]);  // warm up
  std::vector<std::uint32_t> ns(queries.size());
  const std::uint64_t before = routing_bench_allocations();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto t0 = Clock::now();
    decide(queries[i]);
    const auto t1 = Clock::now();
    ns[i] = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  allocations = routing_bench_allocations() - before;
  return ns;
}

std::vector<std::string_view> queries_for(const Shape& shape, std::size_t count) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<std::size_t> pick(0, shape.groups.size() - 1);
  std::vector<std::string_view> q(count);
  for (auto& v : q) v = shape.groups[pick(rng)];
  return q;
}

void row(const std::string& shape, const char* decision, const char* health, std::vector<std::uint32_t> ns,
         std::uint64_t allocations) {
  const std::size_t n = ns.size();
  const Percentiles p = percentiles(ns);
  std::printf("| %s | %s | %s | %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f |\n", shape.c_str(), decision, health, n,
              p.mean, p.p50, p.p99, p.p999, p.max, static_cast<double>(allocations) / static_cast<double>(n));
  std::fflush(stdout);
}

void run_shape(const Shape& shape, std::size_t decisions) {
  // Build time: median and max of 21 builds of the whole table.
  std::vector<double> builds_ms;
  for (int i = 0; i < 21; ++i) {
    const auto t0 = Clock::now();
    RoutingTable t = build_or_die(shape.routes);
    builds_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    benchmark::DoNotOptimize(t);
  }
  std::sort(builds_ms.begin(), builds_ms.end());
  const RoutingTable table = build_or_die(shape.routes);
  std::fprintf(stderr, "%s: %zu routes, %zu eligible, %zu groups, %zu handlers, %zu unhealthy; build median %.2f ms, max %.2f ms\n",
               shape.name.c_str(), table.route_count(), table.eligible_count(), table.group_count(),
               table.handler_ids().size(), shape.unhealthy.size(), builds_ms[builds_ms.size() / 2], builds_ms.back());
  std::printf("| %s | build table | – | 21 | median %.2f ms | | | | max %.2f ms | |\n", shape.name.c_str(),
              builds_ms[builds_ms.size() / 2], builds_ms.back());

  DownSet down(shape.unhealthy.begin(), shape.unhealthy.end());
  HealthFunction by_id{[&down](std::string_view id) { return !down.contains(id); }};
  HealthBitset bits(table, /*initially_healthy=*/true);
  for (const auto& h : shape.unhealthy) bits.set(h, false);

  const auto queries = queries_for(shape, decisions);
  std::uint64_t allocations = 0;
  const HandlerHealth* healths[] = {&by_id, &bits};
  const char* health_names[] = {"hash set", "bitset"};
  for (int k = 0; k < 2; ++k) {
    const HandlerHealth& health = *healths[k];
    auto ns = time_each(queries, [&](std::string_view g) { benchmark::DoNotOptimize(table.best(g, health)); }, allocations);
    row(shape.name, "best()", health_names[k], std::move(ns), allocations);
  }
  for (int k = 0; k < 2; ++k) {
    const HandlerHealth& health = *healths[k];
    auto ns = time_each(queries, [&](std::string_view g) {
      FailoverPlan plan(table, g, health);
      benchmark::DoNotOptimize(plan.current());
    }, allocations);
    row(shape.name, "FailoverPlan first attempt", health_names[k], std::move(ns), allocations);
  }
  {
    // The granting handler is unhealthy and 3 of 32 handlers share its backend: the revoke rule sorts them
    // (routes play no part in it, so the shape of the table does not matter here).
    std::vector<std::string> ids;
    for (int i = 0; i < 32; ++i) ids.push_back("h-" + std::to_string(i));
    std::vector<RevokeHandler> handlers;
    for (int i = 0; i < 32; ++i)
      handlers.push_back({ids[static_cast<std::size_t>(i)], "gatehouse/demo", i % 8 == 0 ? "east" : "west", i % 2 == 0});
    const GrantingHandler granted_by{ids[0], true, "gatehouse/demo", "east", false};
    auto ns = time_each(queries, [&](std::string_view) {
      benchmark::DoNotOptimize(revoke_targets(granted_by, handlers));
    }, allocations);
    row(shape.name, "revoke_targets, granting handler unhealthy", "-", std::move(ns), allocations);
  }
  // The full candidate list is O(routes in the group): in one 10,000-route group it is 9,000 candidates.
  const std::size_t full = shape.groups.size() == 1 ? std::min<std::size_t>(decisions, 20000) : decisions;
  const std::vector<std::string_view> full_queries(queries.begin(), queries.begin() + static_cast<std::ptrdiff_t>(full));
  auto ns = time_each(full_queries, [&](std::string_view g) { benchmark::DoNotOptimize(table.candidates(g, bits)); }, allocations);
  row(shape.name, "candidates() full list", "bitset", std::move(ns), allocations);
}

std::uint32_t clock_overhead_ns() {
  std::vector<std::uint32_t> ns(1000000);
  for (auto& v : ns) {
    const auto t0 = Clock::now();
    const auto t1 = Clock::now();
    v = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
}

int run_percentiles(std::size_t decisions) {
  std::printf("clock overhead (median of back-to-back steady_clock::now()): %u ns, included in every figure below\n\n",
              clock_overhead_ns());
  std::printf("| shape | decision | health | n | mean ns | p50 ns | p99 ns | p99.9 ns | max ns | allocs/decision |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  run_shape(spread(), decisions);
  run_shape(one_group(false), decisions);
  run_shape(one_group(true), std::max<std::size_t>(1, decisions / 5));  // each decision walks ~1,000 routes
  return 0;
}

// ---- Google Benchmark variant: the same decisions, reported as means.

struct Fixture {
  Shape shape;
  RoutingTable table;
  HealthBitset bits;
  std::vector<std::string_view> queries;
  explicit Fixture(Shape s)
      : shape(std::move(s)), table(build_or_die(shape.routes)), bits(table, true), queries(queries_for(shape, 4096)) {
    for (const auto& h : shape.unhealthy) bits.set(h, false);
  }
};

int run_gbench(int argc, char** argv) {
  static Fixture spread_fixture(spread());
  static Fixture one_fixture(one_group(false));
  for (Fixture* f : {&spread_fixture, &one_fixture}) {
    const std::string suffix = f == &spread_fixture ? "/spread" : "/one_group";
    benchmark::RegisterBenchmark(("best_bitset" + suffix).c_str(), [f](benchmark::State& state) {
      std::size_t i = 0;
      for (auto _ : state) benchmark::DoNotOptimize(f->table.best(f->queries[i++ & 4095], f->bits));
    });
    benchmark::RegisterBenchmark(("build_table" + suffix).c_str(), [f](benchmark::State& state) {
      for (auto _ : state) benchmark::DoNotOptimize(build_or_die(f->shape.routes));
    })->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t decisions = 1000000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--gbench") == 0) {
      argv[i] = argv[0];
      return run_gbench(argc - i, argv + i);
    }
    if (std::strcmp(argv[i], "--decisions") == 0 && i + 1 < argc) decisions = std::strtoull(argv[++i], nullptr, 10);
  }
  return run_percentiles(decisions);
}
