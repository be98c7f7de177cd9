// Failover: which candidate to call next when an attempt fails.
//
// RULES (tested in tests/routing/failover_test.cpp):
//   * The first attempt goes to the first candidate: the same handler RoutingTable::best() picks.
//   * The caller decides whether a failure is retryable (the provider said unavailable, the call timed out,
//     the transport broke, the isolated runner crashed …) and reports it with a bool.
//   * Retryable → the next candidate in decision order (priority descending, then the tie-break).
//   * Non-retryable (e.g. the provider says the target is invalid) → stop: the grant fails at once with
//     the provider's message; no other handler is asked.
//   * Health is asked again at every step, so a handler that became unhealthy since the decision is
//     skipped rather than called.
//   * A handler that already failed in this plan is not called again under another kind of the same group:
//     its failure is about the handler, and calling it twice doubles the wait before a healthy handler.
//   * No candidate left → exhausted: the caller keeps the grant pending and tries again later with a fresh
//     plan (a fresh snapshot and fresh health). A plan that starts exhausted means "no candidate now".
#pragma once

#include "routing/candidate.hpp"
#include "routing/routing_table.hpp"

#include <optional>
#include <span>
#include <string_view>

namespace gatehouse::host::routing {

// Not thread-safe: one plan belongs to one grant's attempt, on one thread at a time. The table and the health
// it reads may be shared with other threads' plans (both are safe for concurrent readers).
class FailoverPlan {
 public:
  enum class State {
    trying,     // current() is the candidate to call
    succeeded,  // succeed() was reported
    stopped,    // a non-retryable failure: fail the grant with the provider's message
    exhausted,  // no candidate left: keep the grant pending and retry later
  };

  // Walks the group's eligible routes in `table`. Keeps the snapshot alive; `health` must outlive the plan.
  FailoverPlan(const RoutingTable& table, std::string_view target_group, const HandlerHealth& health);
  // Walks `ordered` (candidates in decision order, e.g. a CandidateList the caller keeps alive).
  FailoverPlan(std::span<const Candidate> ordered, const HandlerHealth& health);

  // Temporaries would dangle: the plan keeps references to both.
  FailoverPlan(const RoutingTable&, std::string_view, const HandlerHealth&&) = delete;
  FailoverPlan(std::span<const Candidate>, const HandlerHealth&&) = delete;
  FailoverPlan(CandidateList&&, const HandlerHealth&) = delete;

  State state() const { return state_; }
  // The candidate to call now; nullptr unless state() == trying.
  const Candidate* current() const { return state_ == State::trying ? &ordered_[position_] : nullptr; }

  // The current attempt failed. Returns the next candidate to call, or nullptr when the plan stopped
  // (non-retryable) or is exhausted. Ignored when the plan is not trying.
  const Candidate* fail(bool retryable);
  // The current attempt succeeded.
  void succeed();

  // Every candidate called so far, in order, including current().
  std::span<const Candidate> attempted() const { return attempted_; }

 private:
  void advance_from(std::size_t position);
  bool already_failed(const Candidate& candidate) const;

  RoutingTable keep_alive_;
  const void* snapshot_id_ = nullptr;  // set when walking a table's own candidates: enables the bitset path
  std::span<const Candidate> ordered_;
  const HandlerHealth* health_;
  std::size_t position_ = 0;
  State state_ = State::exhausted;
  CandidateList attempted_;
};

// Stateless form for a caller that records the handlers it already tried (e.g. in the grant's history,
// so a restarted engine resumes the walk): the first candidate of `ordered` whose handler is healthy and
// not in `failed_handlers`, or nothing.
std::optional<Candidate> next_untried(std::span<const Candidate> ordered,
                                      std::span<const std::string_view> failed_handlers,
                                      const HandlerHealth& health);

}  // namespace gatehouse::host::routing
