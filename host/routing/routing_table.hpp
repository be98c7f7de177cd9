// The router: which handlers may serve a grant for a target group, best first.
//
// ROUTING RULE (docs/architecture.md, "The routing rule"; every clause is tested in tests/routing/):
//   * The candidates of a target group are its routes with priority > 0 (0 disables a route), that are
//     valid (the handler's kind schema is compatible with the group's, see kind_compatibility.hpp), and
//     whose handler is healthy. Health is asked at decision time through HandlerHealth, never cached here,
//     so a handler that reports healthy=false loses its routes at once and gets them back when healthy.
//   * Highest priority first, compared as numbers (100 beats 90 beats 9).
//   * Tie-break, deterministic and independent of the input order: handler id ascending (byte order, as
//     std::string_view compares), then kind ascending. Route ids, insertion order and hashing never matter.
//
// A RoutingTable is an immutable snapshot built from the control plane's routes; when routes, priorities or
// validity change the control plane builds a new one and swaps it in (copies are cheap: they share one
// snapshot). Handler health is not part of the snapshot. Building 10,000 routes takes a few milliseconds
// (bench/README.md); a decision is a hash lookup plus a walk of a pre-sorted array that stops at the first
// healthy handler. A table is immutable, so any number of threads may decide on it at once.
//
// Validity is an input here: the control plane computes it with check_kind_compatibility() and rebuilds the
// table when it re-evaluates it (a handler back to healthy, a new provider version).
#pragma once

#include "common/result.hpp"
#include "routing/candidate.hpp"

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::host::routing {

// A route as the control plane stores it: target group → handler (+ the handler's kind to ask for).
struct Route {
  std::string target_group;
  std::string handler;
  std::string kind;   // opaque, compared exactly; revoke fallback needs the same kind (revoke.hpp)
  int priority = 0;   // 0–999; 0 disables the route
  bool valid = false; // the handler's kind schema is compatible with the group's
};

class RoutingTable {
 public:
  static constexpr int kMaxPriority = 999;
  static constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();

  // An empty table: every group has no candidates.
  RoutingTable();

  // Builds a snapshot. Refuses (code "routing_table_invalid", one diagnostic per fault, paths like
  // "/routes/3/priority") a priority outside 0–999, an empty target group, handler or kind, and two routes
  // with the same (target group, handler, kind): a table is all or nothing, so the caller keeps serving from
  // its previous snapshot. Invalid and priority-0 routes are accepted and simply never become candidates.
  static Result<RoutingTable> build(std::span<const Route> routes);

  // The group's routes that could become candidates (priority > 0 and valid), in decision order, before
  // health is asked. Empty for an unknown group. Views into the snapshot: see Candidate.
  std::span<const Candidate> eligible(std::string_view target_group) const;

  // The group's candidates in decision order: eligible routes whose handler is healthy now, at most `limit`.
  // Asks `health` once per eligible route until `limit` candidates are found. Allocation-free up to
  // CandidateList::kInline candidates.
  CandidateList candidates(std::string_view target_group, const HandlerHealth& health,
                           std::size_t limit = kAll) const;

  // The routing decision: the first candidate, or nothing when the group has no candidate (the caller
  // keeps the grant pending and retries). Stops asking `health` at the first healthy handler.
  std::optional<Candidate> best(std::string_view target_group, const HandlerHealth& health) const;

  // The interned reference of a handler id: its index when any route (eligible or not) names it, else
  // {id, kNoHandlerIndex}.
  HandlerRef handler(std::string_view handler_id) const;

  // The snapshot's own copy of a kind name (candidates' kind views point at it, so equal kinds have equal
  // data() pointers), or an empty view when no route names that kind.
  std::string_view interned_kind(std::string_view kind) const;

  // Identifies the snapshot (shared by copies of this table): what HandlerHealth::bits_for is asked about.
  const void* snapshot_id() const { return snapshot_.get(); }

  // True when `ref` was produced by this snapshot (or a copy of it): its index can be trusted.
  bool owns(HandlerRef ref) const;

  // Interned handler ids, ascending; a handler's index is its position here.
  std::span<const std::string> handler_ids() const;

  std::size_t route_count() const;     // routes the table was built from
  std::size_t eligible_count() const;  // of which priority > 0 and valid
  std::size_t group_count() const;     // target groups with at least one eligible route

 private:
  struct Snapshot;
  explicit RoutingTable(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace gatehouse::host::routing
