#include "grants/static_control_plane.hpp"

namespace gatehouse::host::grants {

struct StaticControlPlane::State {
  struct Handler {
    std::shared_ptr<ProviderClient> client;
    bool healthy = true;
    std::string provider;  // "publisher/name"; empty until set_identity()
    std::string backend;
    std::string incarnation;    // a new one each time the id is set after being absent
    std::string health_reason;  // set_health(); for route_states()
    std::optional<std::chrono::system_clock::time_point> unhealthy_since;
  };

  mutable std::mutex mutex;
  std::map<std::string, Handler, std::less<>> handlers;
  long long created = 0;  // handlers set so far (incarnations)
  std::map<std::string, TargetGroupView, std::less<>> groups;
  std::shared_ptr<const routing::RoutingTable> table = std::make_shared<routing::RoutingTable>();
  std::vector<routing::Route> routes;  // what the table was built from, priority-0 and invalid ones included
  bool unhealthy_on_failure = false;
  std::vector<std::pair<std::string, std::string>> failures;

  bool healthy(std::string_view id) const {
    std::lock_guard lock(mutex);
    auto it = handlers.find(id);
    return it != handlers.end() && it->second.healthy;
  }
};

namespace {

// Health asked live at every routing decision (never a copy): a change is seen at the next decision.
class LiveHealth final : public routing::HandlerHealth {
 public:
  explicit LiveHealth(std::shared_ptr<const StaticControlPlane::State> state) : state_(std::move(state)) {}
  bool healthy(routing::HandlerRef handler) const override { return state_->healthy(handler.id); }

 private:
  std::shared_ptr<const StaticControlPlane::State> state_;
};

}  // namespace

StaticControlPlane::StaticControlPlane() : state_(std::make_shared<State>()) {}
StaticControlPlane::~StaticControlPlane() = default;

void StaticControlPlane::set_handler(const std::string& id, std::shared_ptr<ProviderClient> client, bool healthy) {
  std::lock_guard lock(state_->mutex);
  auto [it, fresh] = state_->handlers.try_emplace(id);  // keeps an identity set earlier
  auto& h = it->second;
  if (fresh) h.incarnation = id + "#" + std::to_string(++state_->created);
  h.client = std::move(client);
  h.healthy = healthy;
}

void StaticControlPlane::set_identity(const std::string& id, const std::string& provider, const std::string& backend) {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->handlers.find(id); it != state_->handlers.end()) {
    it->second.provider = provider;
    it->second.backend = backend;
  }
}

void StaticControlPlane::remove_handler(const std::string& id) {
  std::lock_guard lock(state_->mutex);
  state_->handlers.erase(id);
}

void StaticControlPlane::set_healthy(const std::string& id, bool healthy) { set_health(id, healthy, ""); }

void StaticControlPlane::set_health(const std::string& id, bool healthy, const std::string& reason) {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->handlers.find(id); it != state_->handlers.end()) {
    if (it->second.healthy && !healthy) it->second.unhealthy_since = std::chrono::system_clock::now();
    if (healthy) it->second.unhealthy_since.reset();
    it->second.healthy = healthy;
    it->second.health_reason = reason;
  }
}

void StaticControlPlane::set_target_group(TargetGroupView group) {
  std::lock_guard lock(state_->mutex);
  const std::string id = group.id;
  state_->groups[id] = std::move(group);
}

Result<void> StaticControlPlane::set_routes(const std::vector<routing::Route>& routes) {
  auto built = routing::RoutingTable::build(routes);
  if (!built.ok()) return built.take_error();
  auto table = std::make_shared<const routing::RoutingTable>(std::move(built).value());
  std::lock_guard lock(state_->mutex);
  state_->table = std::move(table);
  state_->routes = routes;
  return {};
}

void StaticControlPlane::set_unhealthy_on_failure(bool on) {
  std::lock_guard lock(state_->mutex);
  state_->unhealthy_on_failure = on;
}

std::vector<std::pair<std::string, std::string>> StaticControlPlane::reported_failures() const {
  std::lock_guard lock(state_->mutex);
  return state_->failures;
}

std::optional<TargetGroupView> StaticControlPlane::target_group(std::string_view id) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->groups.find(id);
  if (it == state_->groups.end()) return std::nullopt;
  return it->second;
}

RoutingView StaticControlPlane::routing() const {
  std::shared_ptr<const routing::RoutingTable> table;
  {
    std::lock_guard lock(state_->mutex);
    table = state_->table;
  }
  return RoutingView{std::move(table), std::make_shared<LiveHealth>(state_)};
}

std::shared_ptr<ProviderClient> StaticControlPlane::client(std::string_view handler_id) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->handlers.find(handler_id);
  return it == state_->handlers.end() ? nullptr : it->second.client;
}

bool StaticControlPlane::handler_exists(std::string_view handler_id) const {
  std::lock_guard lock(state_->mutex);
  return state_->handlers.contains(handler_id);
}

bool StaticControlPlane::handler_healthy(std::string_view handler_id) const { return state_->healthy(handler_id); }

std::vector<HandlerIdentity> StaticControlPlane::handler_identities() const {
  std::lock_guard lock(state_->mutex);
  std::vector<HandlerIdentity> out;
  for (const auto& [id, h] : state_->handlers)
    out.push_back(HandlerIdentity{id, h.provider, h.backend, h.healthy, h.incarnation});
  return out;
}

std::vector<RouteState> StaticControlPlane::route_states(std::string_view target_group) const {
  std::lock_guard lock(state_->mutex);
  std::vector<RouteState> out;
  for (const auto& r : state_->routes) {
    if (r.target_group != target_group) continue;
    RouteState s;
    s.handler = r.handler;
    s.kind = r.kind;
    s.priority = r.priority;
    s.valid = r.valid;
    if (!r.valid) s.invalid_reason = "not compatible with the group's kind";
    if (auto it = state_->handlers.find(r.handler); it != state_->handlers.end()) {
      s.healthy = it->second.healthy;
      s.health_reason = it->second.health_reason;
      s.unhealthy_since = it->second.unhealthy_since;
    } else {
      s.health_reason = "the handler does not exist";
    }
    s.health_status = s.healthy ? "healthy" : "unhealthy";
    out.push_back(std::move(s));
  }
  return out;
}

void StaticControlPlane::report_handler_failure(std::string_view handler_id, const Error& error) {
  // Only the failures that say the handler itself is broken (the registry's rule counts the same codes).
  if (error.code != ErrorCode::transport_failed && error.code != ErrorCode::bad_response &&
      error.code != ErrorCode::deadline_exceeded)
    return;
  std::lock_guard lock(state_->mutex);
  state_->failures.emplace_back(std::string(handler_id), std::string(error.code_name()));
  if (state_->unhealthy_on_failure)
    if (auto it = state_->handlers.find(handler_id); it != state_->handlers.end()) {
      if (it->second.healthy) it->second.unhealthy_since = std::chrono::system_clock::now();
      it->second.healthy = false;
      it->second.health_reason = std::string(error.code_name()) + ": " + error.message;
    }
}

}  // namespace gatehouse::host::grants
