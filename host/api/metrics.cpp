#include "api/metrics.hpp"

#include <cstdio>
#include <sstream>

namespace gatehouse::host::api {
namespace {

// Label values are escaped as the exposition format requires (backslash, quote, newline).
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

}  // namespace

void Metrics::observe_request(const std::string& route, const std::string& method, int status,
                              std::chrono::duration<double> elapsed) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, method, status}];
  auto& h = latency_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (elapsed.count() <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += elapsed.count();
}

void Metrics::count_transition(const std::string& to) {
  std::lock_guard lock(mutex_);
  ++transitions_[to];
}

void Metrics::count_failover(const std::string& handler) {
  std::lock_guard lock(mutex_);
  ++failovers_[handler];
}

void Metrics::count_routing_skip(const std::string& handler, const std::string& reason) {
  std::lock_guard lock(mutex_);
  ++skips_[{handler, reason}];
}

std::string Metrics::render(const std::map<std::string, long long>& grants_by_state,
                            const std::map<std::string, bool>& handler_health) const {
  std::ostringstream out;
  out << "# HELP gatehouse_grants Grants by state.\n# TYPE gatehouse_grants gauge\n";
  for (const char* state : {"pending", "active", "revoking", "revoked", "expired", "failed"}) {
    auto it = grants_by_state.find(state);
    out << "gatehouse_grants{state=\"" << state << "\"} " << (it == grants_by_state.end() ? 0 : it->second) << '\n';
  }
  out << "# HELP gatehouse_handler_healthy Whether a handler passed its last health check (1) or not (0).\n"
         "# TYPE gatehouse_handler_healthy gauge\n";
  for (const auto& [handler, healthy] : handler_health)
    out << "gatehouse_handler_healthy{handler=\"" << label(handler) << "\"} " << (healthy ? 1 : 0) << '\n';

  std::lock_guard lock(mutex_);
  out << "# HELP gatehouse_grant_transitions_total Grant transitions committed by this process.\n"
         "# TYPE gatehouse_grant_transitions_total counter\n";
  for (const auto& [to, n] : transitions_)
    out << "gatehouse_grant_transitions_total{to=\"" << label(to) << "\"} " << n << '\n';
  out << "# HELP gatehouse_routing_failovers_total Grant calls that failed in a retryable way and moved to the next "
         "route.\n# TYPE gatehouse_routing_failovers_total counter\n";
  if (failovers_.empty()) out << "gatehouse_routing_failovers_total 0\n";
  for (const auto& [handler, n] : failovers_)
    out << "gatehouse_routing_failovers_total{handler=\"" << label(handler) << "\"} " << n << '\n';
  out << "# HELP gatehouse_routing_skips_total Routes a routing decision passed over (unhealthy, disabled or "
         "invalid), as named in grant histories.\n# TYPE gatehouse_routing_skips_total counter\n";
  if (skips_.empty()) out << "gatehouse_routing_skips_total 0\n";
  for (const auto& [key, n] : skips_)
    out << "gatehouse_routing_skips_total{handler=\"" << label(key.first) << "\",reason=\"" << label(key.second)
        << "\"} " << n << '\n';
  out << "# HELP gatehouse_http_requests_total API requests by route, method and status code.\n"
         "# TYPE gatehouse_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out << "gatehouse_http_requests_total{route=\"" << label(route) << "\",method=\"" << label(method)
        << "\",code=\"" << status << "\"} " << n << '\n';
  }
  out << "# HELP gatehouse_http_request_duration_seconds API request latency by route.\n"
         "# TYPE gatehouse_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string l = label(route);
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out << "gatehouse_http_request_duration_seconds_bucket{route=\"" << l << "\",le=\"" << number(kBuckets[i])
          << "\"} " << h.buckets[i] << '\n';
    out << "gatehouse_http_request_duration_seconds_bucket{route=\"" << l << "\",le=\"+Inf\"} " << h.count << '\n';
    out << "gatehouse_http_request_duration_seconds_sum{route=\"" << l << "\"} " << number(h.sum) << '\n';
    out << "gatehouse_http_request_duration_seconds_count{route=\"" << l << "\"} " << h.count << '\n';
  }
  return out.str();
}

}  // namespace gatehouse::host::api
