// What a routing decision hands out (a Candidate: one route to one handler) and how the router asks whether
// a handler is healthy (HandlerHealth). Pure values: no I/O, no locks, no allocation on the hot path.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::host::routing {

// Handler ids are interned per RoutingTable snapshot: index i is the i-th handler id in ascending byte order,
// so comparing indices orders handlers exactly like comparing their ids.
using HandlerIndex = std::uint32_t;
inline constexpr HandlerIndex kNoHandlerIndex = std::numeric_limits<HandlerIndex>::max();

// A handler as the router names it: its id and, when it has routes in the table that produced the reference,
// its interned index there (kNoHandlerIndex otherwise, e.g. a granting handler whose routes are gone).
struct HandlerRef {
  std::string_view id;
  HandlerIndex index = kNoHandlerIndex;
};

// One usable route: the handler to call and the kind to ask it for.
//
// The views point into the RoutingTable snapshot that produced the candidate. They stay valid while any copy
// of that RoutingTable lives (copies share the snapshot); copy them into std::string before keeping them
// longer (e.g. before persisting which handler granted).
struct Candidate {
  std::string_view handler;
  std::string_view kind;
  HandlerIndex handler_index = kNoHandlerIndex;
  std::uint32_t route = 0;     // position of the route in the vector the table was built from
  std::uint16_t priority = 0;  // 1–999 (a candidate never has priority 0)

  HandlerRef handler_ref() const { return {handler, handler_index}; }
  bool operator==(const Candidate&) const = default;
};

// Whether a handler is healthy right now. Asked at decision time, once per route looked at, so an
// implementation must be cheap and must not block. The router never caches the answer.
//
// Two implementations ship: HealthFunction (any callable bool(std::string_view handler_id), e.g. a lookup in
// the health subsystem's map) and HealthBitset (health_bitset.hpp: one bit per interned handler index).
//
// Threads: one object may serve many decisions at once (the grant engine's workers share what the control
// plane publishes), so implementations must let healthy() and bits_for() be called from any thread at once.
class HandlerHealth {
 public:
  virtual bool healthy(HandlerRef handler) const = 0;

  // Optional fast path, asked once per decision: when this object's answers for every handler of the
  // RoutingTable snapshot `snapshot_id` are a bitset (bit i of word i/64 = handler index i is healthy),
  // return its words and the router tests bits inline instead of calling healthy() per route. The words
  // must stay unchanged for the duration of the decision. Default: no fast path.
  virtual const std::uint64_t* bits_for(const void* snapshot_id) const {
    (void)snapshot_id;
    return nullptr;
  }

 protected:
  HandlerHealth() = default;
  HandlerHealth(const HandlerHealth&) = default;
  HandlerHealth& operator=(const HandlerHealth&) = default;
  ~HandlerHealth() = default;  // not owned through this interface
};

// Adapts a callable bool(std::string_view handler_id). Keeps the callable by value; wrap a std::ref to share.
// As thread-safe as the callable: a shared HealthFunction calls it from several threads at once.
template <class F>
  requires std::predicate<const F&, std::string_view>
class HealthFunction final : public HandlerHealth {
 public:
  explicit HealthFunction(F f) : f_(std::move(f)) {}
  bool healthy(HandlerRef handler) const override { return static_cast<bool>(std::invoke(f_, handler.id)); }

 private:
  F f_;
};
template <class F>
HealthFunction(F) -> HealthFunction<F>;

namespace detail {

// Health as asked during one walk over one snapshot's candidates: the bitset fast path when `health` offers
// one for that snapshot, the virtual call otherwise.
class HealthProbe {
 public:
  HealthProbe(const HandlerHealth& health, const void* snapshot_id)
      : health_(&health), bits_(snapshot_id ? health.bits_for(snapshot_id) : nullptr) {}
  bool operator()(const Candidate& c) const {
    if (bits_) return (bits_[c.handler_index / 64] >> (c.handler_index % 64)) & 1U;
    return health_->healthy(c.handler_ref());
  }

 private:
  const HandlerHealth* health_;
  const std::uint64_t* bits_;
};

}  // namespace detail

// A vector of candidates that keeps up to kInline of them inline: a decision over a group of up to sixteen
// usable routes (the common shape) allocates nothing.
// A value like std::vector: const use from several threads at once, changes by one thread at a time.
class CandidateList {
 public:
  static constexpr std::size_t kInline = 16;

  void push_back(const Candidate& candidate) {
    if (heap_.empty() && size_ < kInline) {
      inline_[size_++] = candidate;
      return;
    }
    if (heap_.empty()) {
      heap_.reserve(4 * kInline);
      heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(size_));
    }
    heap_.push_back(candidate);
    ++size_;
  }
  // Room for `n` candidates in one allocation (none while n ≤ kInline).
  void reserve(std::size_t n) {
    if (n <= kInline || n <= heap_.capacity()) return;
    heap_.reserve(n);
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(size_));
  }
  void clear() {
    heap_.clear();
    size_ = 0;
  }

  const Candidate* data() const { return heap_.empty() ? inline_.data() : heap_.data(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Candidate& operator[](std::size_t i) const { return data()[i]; }
  const Candidate& front() const { return data()[0]; }
  const Candidate* begin() const { return data(); }
  const Candidate* end() const { return data() + size_; }
  operator std::span<const Candidate>() const { return {data(), size_}; }  // NOLINT: a list is a span
  std::span<const Candidate> span() const { return {data(), size_}; }

 private:
  std::array<Candidate, kInline> inline_{};
  std::vector<Candidate> heap_;  // all elements once more than kInline were pushed
  std::size_t size_ = 0;
};

}  // namespace gatehouse::host::routing
