#include "routing/health_bitset.hpp"

namespace gatehouse::host::routing {

HealthBitset::HealthBitset(RoutingTable table, bool initially_healthy)
    : table_(std::move(table)),
      words_((table_.handler_ids().size() + 63) / 64, initially_healthy ? ~std::uint64_t{0} : 0),
      default_(initially_healthy) {}

void HealthBitset::set_bit(HandlerIndex i, bool healthy) {
  const std::uint64_t mask = std::uint64_t{1} << (i % 64);
  if (healthy)
    words_[i / 64] |= mask;
  else
    words_[i / 64] &= ~mask;
}

void HealthBitset::set(std::string_view handler_id, bool healthy) {
  const HandlerRef ref = table_.handler(handler_id);
  if (ref.index != kNoHandlerIndex) {
    set_bit(ref.index, healthy);
    return;
  }
  auto it = unrouted_.find(handler_id);
  if (it == unrouted_.end())
    unrouted_.emplace(std::string(handler_id), healthy);
  else
    it->second = healthy;
}

void HealthBitset::set_all(bool healthy) {
  for (auto& w : words_) w = healthy ? ~std::uint64_t{0} : 0;
  for (auto& [id, state] : unrouted_) state = healthy;
  default_ = healthy;
}

bool HealthBitset::slow_lookup(std::string_view handler_id) const {
  const HandlerRef ref = table_.handler(handler_id);
  if (ref.index != kNoHandlerIndex) return bit(ref.index);
  auto it = unrouted_.find(handler_id);
  return it == unrouted_.end() ? default_ : it->second;
}

}  // namespace gatehouse::host::routing
