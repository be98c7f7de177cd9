// Building is where the work goes: strings are interned once (handler and kind ids sorted, so comparing
// their indices is comparing the ids), every group's eligible routes are sorted once into one contiguous
// array, and a decision only hashes the group name and walks that array.
#include "routing/routing_table.hpp"

#include <algorithm>
#include <tuple>
#include <utility>
#include <unordered_map>

namespace gatehouse::host::routing {

struct RoutingTable::Snapshot {
  struct Range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };

  // Owned strings first: the views below point into them, and the vectors are never resized after.
  std::vector<std::string> handlers;  // ascending
  std::vector<std::string> kinds;     // ascending
  std::vector<std::string> groups;    // groups with at least one eligible route, any order

  std::vector<Candidate> eligible;    // grouped by target group, each group in decision order
  std::unordered_map<std::string_view, Range> group_ranges;
  std::unordered_map<std::string_view, HandlerIndex> handler_index;
  std::size_t route_count = 0;
};

namespace {

// Interns names: ids in first-seen order while reading, remapped to ascending byte order at the end.
class Interner {
 public:
  explicit Interner(std::size_t expected) { seen_.reserve(expected); }

  std::uint32_t add(std::string_view name) {
    auto [it, inserted] = seen_.try_emplace(name, static_cast<std::uint32_t>(names_.size()));
    if (inserted) names_.push_back(name);
    return it->second;
  }

  // Sorts the names; returns old id → sorted position and fills `out` with the names in that order.
  std::vector<std::uint32_t> finish(std::vector<std::string>& out) const {
    std::vector<std::uint32_t> order(names_.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return names_[a] < names_[b]; });
    std::vector<std::uint32_t> remap(names_.size());
    out.clear();
    out.reserve(names_.size());
    for (std::uint32_t pos = 0; pos < order.size(); ++pos) {
      remap[order[pos]] = pos;
      out.emplace_back(names_[order[pos]]);
    }
    return remap;
  }

 private:
  std::unordered_map<std::string_view, std::uint32_t> seen_;
  std::vector<std::string_view> names_;
};

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

struct Fault {
  Diagnostic diagnostic;
  std::string sentence;  // the same fault, self-contained, for the error message
};

// Packed sort key: comparing two 64-bit words beats chasing three indices per comparison.
struct SortKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  std::uint32_t route = 0;
  bool operator<(const SortKey& o) const { return std::tie(high, low, route) < std::tie(o.high, o.low, o.route); }
  bool same_key(const SortKey& o) const { return high == o.high && low == o.low; }
};

std::uint64_t pack(std::uint32_t high, std::uint32_t low) { return (std::uint64_t{high} << 32) | low; }

std::vector<Fault> field_faults(std::span<const Route> routes) {
  std::vector<Fault> faults;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const Route& r = routes[i];
    const bool bad_priority = r.priority < 0 || r.priority > RoutingTable::kMaxPriority;
    if (!bad_priority && !r.target_group.empty() && !r.handler.empty() && !r.kind.empty()) continue;
    const std::string where = "/routes/" + std::to_string(i);
    const std::string name = "route " + std::to_string(i);
    if (bad_priority) {
      std::string reason = "is " + std::to_string(r.priority) + "; a priority is 0–999 (0 disables the route)";
      faults.push_back({{where + "/priority", reason}, name + " priority " + reason});
    }
    for (auto [field, value] : {std::pair<const char*, const std::string*>{"target_group", &r.target_group},
                                {"handler", &r.handler},
                                {"kind", &r.kind}}) {
      if (value->empty())
        faults.push_back({{where + "/" + field, "is empty"}, name + " has an empty " + field});
    }
  }
  return faults;
}

}  // namespace

RoutingTable::RoutingTable() : snapshot_(std::make_shared<const Snapshot>()) {}
RoutingTable::RoutingTable(std::shared_ptr<const Snapshot> snapshot) : snapshot_(std::move(snapshot)) {}

Result<RoutingTable> RoutingTable::build(std::span<const Route> routes) {
  std::vector<Fault> faults = field_faults(routes);

  auto snapshot = std::make_shared<Snapshot>();
  snapshot->route_count = routes.size();

  // 1. Intern every name, from all routes (an ineligible route still makes its handler known to handler()).
  Interner groups(routes.size()), handlers(routes.size()), kinds(64);
  struct Key {
    std::uint32_t group, handler, kind;
  };
  std::vector<Key> keys(routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    keys[i] = {groups.add(routes[i].target_group), handlers.add(routes[i].handler), kinds.add(routes[i].kind)};
  }
  std::vector<std::string> all_groups;
  const auto group_of = groups.finish(all_groups);
  const auto handler_of = handlers.finish(snapshot->handlers);
  const auto kind_of = kinds.finish(snapshot->kinds);
  for (auto& k : keys) k = {group_of[k.group], handler_of[k.handler], kind_of[k.kind]};

  // 2. One route per (group, handler, kind): a second one would make failover call the same thing twice.
  std::vector<SortKey> by_identity(routes.size());
  for (std::uint32_t i = 0; i < by_identity.size(); ++i)
    by_identity[i] = {pack(keys[i].group, keys[i].handler), pack(keys[i].kind, 0), i};
  std::sort(by_identity.begin(), by_identity.end());
  for (std::size_t j = 1, first = 0; j < by_identity.size(); ++j) {
    if (!by_identity[j].same_key(by_identity[first])) {
      first = j;
      continue;
    }
    const std::uint32_t original = by_identity[first].route, again = by_identity[j].route;
    const Route& r = routes[again];
    std::string reason = "repeats route " + std::to_string(original) + " (target group " +
                         in_quotes(r.target_group) + ", handler " + in_quotes(r.handler) + ", kind " +
                         in_quotes(r.kind) + ")";
    faults.push_back({{"/routes/" + std::to_string(again), reason}, "route " + std::to_string(again) + " " + reason});
  }

  if (!faults.empty()) {
    std::stable_sort(faults.begin(), faults.end(),
                     [](const Fault& a, const Fault& b) { return a.diagnostic.path < b.diagnostic.path; });
    std::string message = "cannot build the routing table: ";
    std::vector<Diagnostic> diagnostics;
    for (std::size_t i = 0; i < faults.size(); ++i) {
      message += (i ? "; " : "") + faults[i].sentence;
      diagnostics.push_back(std::move(faults[i].diagnostic));
    }
    return make_error(ErrorCode::routing_table_invalid, std::move(message), std::move(diagnostics));
  }

  // 3. Eligible routes in decision order: group, priority descending, handler id ascending, kind ascending.
  std::vector<SortKey> order;
  order.reserve(routes.size());
  for (std::uint32_t i = 0; i < routes.size(); ++i) {
    if (!routes[i].valid || routes[i].priority <= 0) continue;
    const auto descending = static_cast<std::uint32_t>(kMaxPriority - routes[i].priority);
    order.push_back({pack(keys[i].group, descending), pack(keys[i].handler, keys[i].kind), i});
  }
  std::sort(order.begin(), order.end());

  // Only groups that have eligible routes are kept; their strings are final before any view is taken.
  std::vector<std::uint32_t> kept_group(all_groups.size(), 0);
  for (std::size_t j = 0; j < order.size(); ++j) {
    const std::uint32_t g = keys[order[j].route].group;
    if (j == 0 || keys[order[j - 1].route].group != g) {
      kept_group[g] = static_cast<std::uint32_t>(snapshot->groups.size());
      snapshot->groups.push_back(std::move(all_groups[g]));
    }
  }

  snapshot->eligible.reserve(order.size());
  snapshot->group_ranges.reserve(snapshot->groups.size());
  Snapshot::Range* range = nullptr;
  for (std::size_t j = 0; j < order.size(); ++j) {
    const std::uint32_t i = order[j].route;
    const Key& k = keys[i];
    snapshot->eligible.push_back(Candidate{
        .handler = snapshot->handlers[k.handler],
        .kind = snapshot->kinds[k.kind],
        .handler_index = k.handler,
        .route = i,
        .priority = static_cast<std::uint16_t>(routes[i].priority),
    });
    if (j == 0 || keys[order[j - 1].route].group != k.group) {
      const std::string_view group = snapshot->groups[kept_group[k.group]];
      range = &snapshot->group_ranges.try_emplace(group, Snapshot::Range{static_cast<std::uint32_t>(j), 0}).first->second;
    }
    range->end = static_cast<std::uint32_t>(j + 1);
  }

  snapshot->handler_index.reserve(snapshot->handlers.size());
  for (std::size_t h = 0; h < snapshot->handlers.size(); ++h)
    snapshot->handler_index.emplace(snapshot->handlers[h], static_cast<HandlerIndex>(h));

  return RoutingTable(std::move(snapshot));
}

std::span<const Candidate> RoutingTable::eligible(std::string_view target_group) const {
  auto it = snapshot_->group_ranges.find(target_group);
  if (it == snapshot_->group_ranges.end()) return {};
  return std::span<const Candidate>(snapshot_->eligible).subspan(it->second.begin, it->second.end - it->second.begin);
}

CandidateList RoutingTable::candidates(std::string_view target_group, const HandlerHealth& health,
                                       std::size_t limit) const {
  CandidateList out;
  if (limit == 0) return out;
  const detail::HealthProbe healthy(health, snapshot_id());
  const auto group = eligible(target_group);
  out.reserve(std::min(group.size(), limit));  // at most one allocation, only past kInline
  for (const Candidate& c : group) {
    if (!healthy(c)) continue;
    out.push_back(c);
    if (out.size() == limit) break;
  }
  return out;
}

std::optional<Candidate> RoutingTable::best(std::string_view target_group, const HandlerHealth& health) const {
  const detail::HealthProbe healthy(health, snapshot_id());
  for (const Candidate& c : eligible(target_group))
    if (healthy(c)) return c;
  return std::nullopt;
}

HandlerRef RoutingTable::handler(std::string_view handler_id) const {
  auto it = snapshot_->handler_index.find(handler_id);
  if (it == snapshot_->handler_index.end()) return {handler_id, kNoHandlerIndex};
  return {snapshot_->handlers[it->second], it->second};
}

std::string_view RoutingTable::interned_kind(std::string_view kind) const {
  const auto& kinds = snapshot_->kinds;
  auto it = std::lower_bound(kinds.begin(), kinds.end(), kind, [](const std::string& a, std::string_view b) { return a < b; });
  if (it == kinds.end() || *it != kind) return {};
  return *it;
}

bool RoutingTable::owns(HandlerRef ref) const {
  // Pointer identity, not text: an index from another snapshot may name a different handler here.
  return ref.index < snapshot_->handlers.size() && ref.id.data() == snapshot_->handlers[ref.index].data() &&
         ref.id.size() == snapshot_->handlers[ref.index].size();
}

std::span<const std::string> RoutingTable::handler_ids() const { return snapshot_->handlers; }
std::size_t RoutingTable::route_count() const { return snapshot_->route_count; }
std::size_t RoutingTable::eligible_count() const { return snapshot_->eligible.size(); }
std::size_t RoutingTable::group_count() const { return snapshot_->groups.size(); }

}  // namespace gatehouse::host::routing
