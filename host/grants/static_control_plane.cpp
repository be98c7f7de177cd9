#include "grants/static_control_plane.hpp"

namespace gatehouse::host::grants {

struct StaticControlPlane::State {
  struct Handler {
    std::shared_ptr<ProviderClient> client;
    bool healthy = true;
  };

  mutable std::mutex mutex;
  std::map<std::string, Handler, std::less<>> handlers;
  std::map<std::string, TargetGroupView, std::less<>> groups;
  std::shared_ptr<const routing::RoutingTable> table = std::make_shared<routing::RoutingTable>();
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
  state_->handlers[id] = State::Handler{std::move(client), healthy};
}

void StaticControlPlane::remove_handler(const std::string& id) {
  std::lock_guard lock(state_->mutex);
  state_->handlers.erase(id);
}

void StaticControlPlane::set_healthy(const std::string& id, bool healthy) {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->handlers.find(id); it != state_->handlers.end()) it->second.healthy = healthy;
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

void StaticControlPlane::report_handler_failure(std::string_view handler_id, const Error& error) const {
  std::lock_guard lock(state_->mutex);
  state_->failures.emplace_back(std::string(handler_id), error.code);
  if (state_->unhealthy_on_failure)
    if (auto it = state_->handlers.find(handler_id); it != state_->handlers.end()) it->second.healthy = false;
}

}  // namespace gatehouse::host::grants
