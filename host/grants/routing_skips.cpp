#include "grants/routing_skips.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <tuple>

namespace gatehouse::host::grants {
namespace {

// UTC with milliseconds, like the API's times ("2026-12-01T09:00:02.430Z"); host/api formats the same way but
// sits above this layer.
std::string utc_ms(std::chrono::system_clock::time_point at) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(at.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const long long frac = ((ms % 1000) + 1000) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buffer;
}

// The router's order: higher priority first, then handler id, then kind (routing_table.hpp).
bool ranks_above(const RouteState& r, const ChosenRoute& chosen) {
  if (r.priority != chosen.priority) return r.priority > chosen.priority;
  return std::tie(r.handler, r.kind) < std::tie(chosen.handler, chosen.kind);
}

std::string head(const RouteState& r) {
  return "skipped '" + r.handler + "' (priority " + std::to_string(r.priority) + ")";
}

}  // namespace

std::vector<RouteSkip> passed_over(std::span<const RouteState> routes, const std::optional<ChosenRoute>& chosen,
                                   std::span<const std::string> called) {
  std::vector<const RouteState*> ordered;
  for (const auto& r : routes) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(), [](const RouteState* a, const RouteState* b) {
    return std::make_tuple(-a->priority, a->handler, a->kind) < std::make_tuple(-b->priority, b->handler, b->kind);
  });
  std::vector<RouteSkip> out;
  for (const RouteState* r : ordered) {
    if (chosen && r->handler == chosen->handler) continue;
    if (std::find(called.begin(), called.end(), r->handler) != called.end()) continue;
    if (r->priority <= 0) {
      out.push_back({r->handler, "disabled", head(*r) + ": disabled"});
      continue;
    }
    if (chosen && !ranks_above(*r, *chosen)) continue;
    if (!r->valid) {
      out.push_back({r->handler, "invalid",
                     head(*r) + ": invalid route" + (r->invalid_reason.empty() ? "" : ": " + r->invalid_reason)});
    } else if (!r->healthy) {
      std::string why = r->health_status == "unknown" ? "health not checked yet" : "unhealthy";
      if (r->unhealthy_since) why += " since " + utc_ms(*r->unhealthy_since);
      if (!r->health_reason.empty()) why += ": " + r->health_reason;
      out.push_back({r->handler, "unhealthy", head(*r) + ": " + why});
    }
  }
  return out;
}

std::string joined_skips(const std::vector<RouteSkip>& skips) {
  std::string out;
  for (const auto& s : skips) out += (out.empty() ? "" : "; ") + s.text;
  return out;
}

}  // namespace gatehouse::host::grants
