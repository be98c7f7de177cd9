// Replicas: bringing this gatehoused's model to what the shared database holds (issue 14.6). Every change to
// handlers, target groups and routes gives its row a new revision and notifies kControlPlaneChannel (migration
// 0012); the daemon's listener calls reconcile() for each notification and reconcile_if_changed() periodically.
// Rows whose revision this registry already holds are left alone, so a replica's own changes cost one read.
#include "registry/registry.hpp"

#include "registry/registry_rows.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace gatehouse::host::registry {

namespace {

struct DatabaseState {
  std::vector<std::pair<TargetGroupInfo, std::int64_t>> groups;
  std::vector<std::pair<RouteInfo, std::int64_t>> routes;
  std::string fingerprint;
};

}  // namespace

Result<bool> Registry::reconcile_if_changed() {
  auto fingerprint = db_.with_transaction([](pqxx::work& txn) { return control_plane_fingerprint(txn); });
  if (!fingerprint) return fingerprint.take_error();
  {
    std::lock_guard writing(model_write_mutex_);
    if (*fingerprint == applied_fingerprint_) return false;
  }
  return reconcile();
}

Result<bool> Registry::reconcile() {
  std::lock_guard writing(model_write_mutex_);
  // One snapshot of all three tables, so a handler and the routes that name it are read as of one moment.
  pqxx::result handler_rows;
  auto read = db_.with_transaction([&](pqxx::work& txn) {
    txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    DatabaseState state;
    state.fingerprint = control_plane_fingerprint(txn);
    handler_rows = txn.exec(std::string("SELECT ") + kHandlerColumns + " FROM handlers ORDER BY id");
    for (const auto& row : txn.exec(std::string("SELECT ") + kTargetGroupColumns + " FROM target_groups ORDER BY id"))
      state.groups.push_back(target_group_from_row(row));
    for (const auto& row :
         txn.exec(std::string("SELECT ") + kRouteColumns + " FROM routes ORDER BY target_group_id, handler_id, kind"))
      state.routes.push_back(route_from_row(row));
    return state;
  });
  if (!read) return read.take_error();
  DatabaseState& state = *read;

  // Which handlers are new or changed: compared by revision and incarnation (deleted and created again).
  std::map<std::string, std::pair<std::int64_t, std::string>, std::less<>> known;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, h] : handlers_) known.emplace(id, std::make_pair(h.revision, h.info.incarnation));
  }
  std::vector<Handler> fresh;  // instances (an isolated handler's runner) are built without mutex_ held
  std::set<std::string, std::less<>> in_database;
  for (const auto& row : handler_rows) {
    const auto id = row[0].as<std::string>();
    in_database.insert(id);
    auto it = known.find(id);
    if (it != known.end() && it->second.first == row[kHandlerRevisionColumn].as<std::int64_t>() &&
        it->second.second == row[kHandlerIncarnationColumn].as<std::string>())
      continue;
    fresh.push_back(handler_from_row(row));
  }

  std::vector<Handler> retired;  // destroyed after the lock is released: stopping a runner takes a while
  bool changed = !fresh.empty();
  {
    std::lock_guard lock(mutex_);
    for (auto& h : fresh) {
      auto it = handlers_.find(h.info.id);
      spdlog::info("handler {} was {} through another replica", h.info.id, it != handlers_.end() ? "changed" : "created");
      if (it != handlers_.end()) {
        retired.push_back(std::move(it->second));
        it->second = std::move(h);
      } else {
        const std::string id = h.info.id;
        handlers_.emplace(id, std::move(h));
      }
    }
    for (auto it = handlers_.begin(); it != handlers_.end();) {
      if (in_database.count(it->first)) {
        ++it;
        continue;
      }
      spdlog::info("handler {} was deleted through another replica", it->first);
      retired.push_back(std::move(it->second));
      it = handlers_.erase(it);
      changed = true;
    }

    std::map<std::string, TargetGroupInfo, std::less<>> groups;
    std::map<std::string, std::int64_t, std::less<>> group_revisions;
    for (auto& [group, revision] : state.groups) {
      group_revisions.emplace(group.id, revision);
      groups.emplace(group.id, std::move(group));
    }
    if (group_revisions != group_revisions_) {
      changed = true;
      groups_ = std::move(groups);
      group_revisions_ = std::move(group_revisions);
    }

    std::map<RouteKey, std::int64_t> route_revisions;
    for (const auto& [route, revision] : state.routes)
      route_revisions.emplace(RouteKey{route.target_group, route.handler, route.kind}, revision);
    if (changed || route_revisions != route_revisions_) {
      // Routes are evaluated again whenever anything changed: a new instance may have new kinds.
      changed = true;
      routes_.clear();
      for (auto& [route, revision] : state.routes) routes_.push_back(evaluate_locked(std::move(route)));
      route_revisions_ = std::move(route_revisions);
    }
    if (changed) publish_locked();
  }
  applied_fingerprint_ = std::move(state.fingerprint);
  return changed;
}

}  // namespace gatehouse::host::registry
