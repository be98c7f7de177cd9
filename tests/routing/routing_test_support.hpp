// Small helpers shared by the routing tests: routes in one line, a health double that records what it was asked.
#pragma once

#include "routing/router.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// Readable failures: Catch prints values through operator<< found by argument-dependent lookup.
namespace gatehouse::host::routing {
inline std::ostream& operator<<(std::ostream& os, const RevokeTarget& t) {
  return os << (t.pinned ? "granting " : "same-backend ") << t.handler;
}
}  // namespace gatehouse::host::routing

namespace Catch {
template <>
struct StringMaker<std::vector<gatehouse::host::routing::RevokeTarget>> {
  static std::string convert(const std::vector<gatehouse::host::routing::RevokeTarget>& targets) {
    if (targets.empty()) return "none";
    std::ostringstream os;
    for (std::size_t i = 0; i < targets.size(); ++i) os << (i ? ", " : "") << targets[i];
    return os.str();
  }
};
}  // namespace Catch

namespace routing_test {

using namespace gatehouse::host::routing;

inline Route route(std::string group, std::string handler, int priority, std::string kind = "Database",
                   bool valid = true) {
  return Route{std::move(group), std::move(handler), std::move(kind), priority, valid};
}

inline RoutingTable table_of(const std::vector<Route>& routes) {
  auto built = RoutingTable::build(routes);
  if (!built.ok()) FAIL(built.error().describe());
  return std::move(built).value();
}

// Every handler is healthy unless marked down; counts the questions so tests can prove laziness.
class FakeHealth final : public HandlerHealth {
 public:
  FakeHealth() = default;
  FakeHealth(std::initializer_list<std::string> down) : down_(down) {}

  void down(const std::string& handler) { down_.insert(handler); }
  void up(const std::string& handler) { down_.erase(handler); }
  std::size_t asked() const { return asked_; }

  bool healthy(HandlerRef handler) const override {
    ++asked_;
    return !down_.contains(std::string(handler.id));
  }

 private:
  std::set<std::string> down_;
  mutable std::size_t asked_ = 0;
};

// "handler" per candidate, or "handler/kind" with kinds, in order: what the assertions compare.
inline std::vector<std::string> handlers(std::span<const Candidate> candidates) {
  std::vector<std::string> out;
  for (const auto& c : candidates) out.emplace_back(c.handler);
  return out;
}
inline std::vector<std::string> handler_kinds(std::span<const Candidate> candidates) {
  std::vector<std::string> out;
  for (const auto& c : candidates) out.push_back(std::string(c.handler) + "/" + std::string(c.kind));
  return out;
}

using Names = std::vector<std::string>;

}  // namespace routing_test
