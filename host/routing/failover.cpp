#include "routing/failover.hpp"

#include <algorithm>

namespace gatehouse::host::routing {

FailoverPlan::FailoverPlan(const RoutingTable& table, std::string_view target_group, const HandlerHealth& health)
    : keep_alive_(table), snapshot_id_(table.snapshot_id()), ordered_(table.eligible(target_group)), health_(&health) {
  advance_from(0);
}

FailoverPlan::FailoverPlan(std::span<const Candidate> ordered, const HandlerHealth& health)
    : ordered_(ordered), health_(&health) {
  advance_from(0);
}

bool FailoverPlan::already_failed(const Candidate& candidate) const {
  // Every attempted candidate but the current one failed; the current one is never re-checked here.
  return std::any_of(attempted_.begin(), attempted_.end(),
                     [&](const Candidate& tried) { return tried.handler == candidate.handler; });
}

void FailoverPlan::advance_from(std::size_t position) {
  const detail::HealthProbe healthy(*health_, snapshot_id_);
  for (; position < ordered_.size(); ++position) {
    const Candidate& c = ordered_[position];
    if (!healthy(c) || already_failed(c)) continue;  // health first: the cheap, usual filter
    position_ = position;
    state_ = State::trying;
    attempted_.push_back(c);
    return;
  }
  state_ = State::exhausted;
}

const Candidate* FailoverPlan::fail(bool retryable) {
  if (state_ != State::trying) return nullptr;
  if (!retryable) {
    state_ = State::stopped;
    return nullptr;
  }
  advance_from(position_ + 1);
  return current();
}

void FailoverPlan::succeed() {
  if (state_ == State::trying) state_ = State::succeeded;
}

std::optional<Candidate> next_untried(std::span<const Candidate> ordered,
                                      std::span<const std::string_view> failed_handlers,
                                      const HandlerHealth& health) {
  for (const Candidate& c : ordered) {
    if (std::find(failed_handlers.begin(), failed_handlers.end(), c.handler) != failed_handlers.end()) continue;
    if (health.healthy(c.handler_ref())) return c;
  }
  return std::nullopt;
}

}  // namespace gatehouse::host::routing
