// Handler health as one bit per handler interned by a RoutingTable snapshot: a decision's health check is a
// shift and a mask instead of hashing the handler id (bench/README.md compares both).
#pragma once

#include "routing/candidate.hpp"
#include "routing/routing_table.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::host::routing {

// Belongs to the snapshot it was made from (it keeps that snapshot alive). A reference from that snapshot
// is answered from the bit; any other reference (another snapshot, a granting handler with no routes) is
// looked up by id: first in the snapshot, then among the handlers set by id that have no routes. A handler
// never set is unhealthy unless the bitset was made with `initially_healthy`.
//
// Not synchronized: the health subsystem either owns it on one thread or publishes a fresh copy.
class HealthBitset final : public HandlerHealth {
 public:
  explicit HealthBitset(RoutingTable table, bool initially_healthy = false);

  void set(std::string_view handler_id, bool healthy);
  void set_all(bool healthy);  // every handler, including the ones never set

  bool healthy(HandlerRef handler) const override {
    if (table_.owns(handler)) return bit(handler.index);
    return slow_lookup(handler.id);
  }

  // The router's fast path: the bits themselves, for decisions over this bitset's own snapshot.
  const std::uint64_t* bits_for(const void* snapshot_id) const override {
    return snapshot_id == table_.snapshot_id() ? words_.data() : nullptr;
  }

  const RoutingTable& table() const { return table_; }

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  bool bit(HandlerIndex i) const { return (words_[i / 64] >> (i % 64)) & 1U; }
  void set_bit(HandlerIndex i, bool healthy);
  bool slow_lookup(std::string_view handler_id) const;

  RoutingTable table_;
  std::vector<std::uint64_t> words_;
  bool default_ = false;
  std::unordered_map<std::string, bool, StringHash, std::equal_to<>> unrouted_;  // handlers without routes
};

}  // namespace gatehouse::host::routing
