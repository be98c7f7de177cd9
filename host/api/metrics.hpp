// Prometheus metrics of the daemon, rendered in the text exposition format (version 0.0.4):
//   gatehouse_grants{state}                         gauge, grants by state (read from PostgreSQL at scrape)
//   gatehouse_grant_transitions_total{to}           counter, transitions committed by this process
//   gatehouse_routing_failovers_total{handler}      counter, Grant calls that failed over to the next route
//   gatehouse_routing_skips_total{handler,reason}   counter, routes a routing decision passed over and named in the
//                                                   grant's history (reason: unhealthy, disabled, invalid)
//   gatehouse_handler_healthy{handler}              gauge, 1 healthy / 0 not
//   gatehouse_grants_revoke_failing{handler}        gauge, grants flagged revoke_failing by the handler owing the
//                                                   revoke (read from PostgreSQL at scrape; operations_endpoints.cpp)
//   gatehouse_http_requests_total{route,method,code} counter
//   gatehouse_http_request_duration_seconds{route}  histogram
// Counters are per process (Prometheus sums replicas); gauges come from the shared state.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace gatehouse::host::api {

// Thread-safe: every method may be called from any thread at once (HTTP threads, the grant engine's workers);
// a mutex guards the counters.
class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void observe_request(const std::string& route, const std::string& method, int status,
                       std::chrono::duration<double> elapsed);
  void count_transition(const std::string& to);
  void count_failover(const std::string& handler);
  void count_routing_skip(const std::string& handler, const std::string& reason);

  // The exposition text; the gauges are passed in by the caller, which reads them from the control plane.
  std::string render(const std::map<std::string, long long>& grants_by_state,
                     const std::map<std::string, bool>& handler_health) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, std::uint64_t> transitions_;
  std::map<std::string, std::uint64_t> failovers_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> skips_;  // (handler, reason)
};

}  // namespace gatehouse::host::api
