// Why a routing decision passed routes over (issue 13, item 7): pure functions over the routes of a target group
// as the control plane saw them (RouteState), so they are unit-tested without a database.
//
// RULES
//   * A route whose handler the decision called (it granted, refused or failed over) is never a skip: failovers
//     have their own history text.
//   * Disabled (priority 0): always named, whatever the chosen route's priority — an operator who set it to 0
//     wants to see that grants go elsewhere because of it.
//   * Invalid or unhealthy (handler unhealthy or not checked yet): named only when the route ranks above the one
//     that served the grant (priority descending, then handler id, then kind: the router's order), or when no
//     route served it (the grant waits, or every candidate failed).
//   * Each skip has a reason label for the metric gatehouse_routing_skips_total{handler,reason}: "disabled",
//     "invalid" or "unhealthy", and a sentence for the history:
//       skipped 'h-b' (priority 100): unhealthy since 2026-12-01T09:00:02.430Z: backend unreachable
//       skipped 'h-c' (priority 0): disabled
//       skipped 'h-d' (priority 50): invalid route: kind schema lacks property 'role'
// THREADS: pure functions; safe from any thread.
#pragma once

#include "grants/control_plane_view.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gatehouse::host::grants {

struct RouteSkip {
  std::string handler;
  std::string reason;  // "disabled", "invalid" or "unhealthy"
  std::string text;    // the history sentence (above)
};

// The route that served or refused the grant: what the others are ranked against.
struct ChosenRoute {
  std::string handler;
  std::string kind;
  int priority = 0;
};

// The skips of one decision, in the router's order. `called`: handlers the decision called.
std::vector<RouteSkip> passed_over(std::span<const RouteState> routes, const std::optional<ChosenRoute>& chosen,
                                   std::span<const std::string> called);

// "skipped 'a' (…): …; skipped 'b' (…): …", or "" when there is none.
std::string joined_skips(const std::vector<RouteSkip>& skips);

}  // namespace gatehouse::host::grants
