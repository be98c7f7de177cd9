// The inventory: sync runs (start on demand, follow their progress), resources, and what a target group's
// requests may name (its options).
#include "api/endpoints.hpp"
#include "inventory/queries.hpp"
#include "inventory/sync_engine.hpp"
#include "inventory/target_inventory.hpp"

#include <algorithm>

namespace gatehouse::host::api::detail {

using nlohmann::json;

namespace {

Error as_api_error(Error e) {
  if (e.code == ErrorCode::handler_not_found) e.code = ErrorCode::not_found;
  else if (e.code == ErrorCode::sync_in_progress || e.code == ErrorCode::handler_unavailable)
    e.code = ErrorCode::failed_precondition;
  else if (e.code == ErrorCode::engine_stopped) e.code = ErrorCode::unavailable;
  return e;
}

Result<std::int64_t> run_id(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(ErrorCode::not_found, "no sync run '" + text + "'");
  return std::stoll(text);
}

Result<void> only_params(const Call& call, std::initializer_list<const char*> allowed) {
  for (const auto& [name, value] : call.target.query) {
    (void)value;
    bool known = false;
    std::string list;
    for (const char* a : allowed) {
      known |= name == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!known) return make_error(ErrorCode::invalid_argument, "unknown query parameter '" + name + "' (filters: " + list + ")");
  }
  return {};
}

std::string param(const Call& call, const char* name) {
  auto it = call.target.query.find(name);
  return it == call.target.query.end() ? std::string() : it->second;
}

}  // namespace

std::vector<std::string> routed_handlers(ApiDependencies& deps, const std::string& group) {
  std::vector<std::string> out;
  for (const auto& r : deps.registry.routes())
    if (r.target_group == group && r.priority > 0 &&
        std::find(out.begin(), out.end(), r.handler) == out.end())
      out.push_back(r.handler);
  return out;
}

HttpResponse start_sync(ApiDependencies& deps, Call& call) {
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  std::string handler;
  std::vector<Diagnostic> faults;
  for (const auto& [name, value] : body->items()) {
    if (name != "handler") faults.push_back({"/" + name, "unknown field"});
    else if (!value.is_string() || value.get<std::string>().empty()) faults.push_back({"/handler", "must be a handler id"});
    else handler = value.get<std::string>();
  }
  if (handler.empty() && faults.empty()) faults.push_back({"/handler", "required field is missing"});
  if (!faults.empty()) return error_response(make_error(ErrorCode::invalid_argument, "the sync request is invalid", faults));
  call.audit_object = "handler/" + handler;
  if (!deps.sync) return error_response(make_error(ErrorCode::unavailable, "inventory sync is not running"));
  auto id = deps.sync->start_run(handler);
  if (!id) return error_response(as_api_error(id.take_error()));
  call.audit_details = {{"sync_run", *id}};
  auto run = inventory::get_sync_run(deps.db, *id);
  if (!run) return json_response(202, json{{"id", *id}, {"handler_id", handler}, {"status", "running"}});
  return json_response(202, inventory::to_json(*run));
}

HttpResponse list_sync_runs(ApiDependencies& deps, Call& call) {
  if (auto ok = only_params(call, {"handler", "status", "limit", "before"}); !ok) return error_response(ok.error());
  inventory::SyncRunFilter filter;
  filter.handler_id = param(call, "handler");
  filter.status = param(call, "status");
  auto limit = query_limit(call.target, 50, 1000);
  if (!limit) return error_response(limit.error());
  filter.limit = *limit;
  if (!param(call, "before").empty()) {
    auto before = run_id(param(call, "before"));
    if (!before) return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'before' must be a sync run id"));
    filter.before_id = *before;
  }
  auto runs = inventory::list_sync_runs(deps.db, filter);
  if (!runs) return error_response(runs.error());
  json items = json::array();
  for (const auto& r : *runs) items.push_back(inventory::to_json(r));
  return json_response(200, json{{"items", items}});
}

HttpResponse show_sync_run(ApiDependencies& deps, Call& call) {
  auto id = run_id(call.params[0]);
  if (!id) return error_response(id.error());
  auto run = inventory::get_sync_run(deps.db, *id);
  if (!run) return error_response(run.error());
  return json_response(200, inventory::to_json(*run));
}

HttpResponse list_resources(ApiDependencies& deps, Call& call) {
  if (auto ok = only_params(call, {"handler", "type", "match", "limit", "after"}); !ok) return error_response(ok.error());
  inventory::ResourceFilter filter;
  filter.handler_id = param(call, "handler");
  filter.type = param(call, "type");
  filter.match = param(call, "match");
  filter.after = param(call, "after");
  auto limit = query_limit(call.target, 100, 1000);
  if (!limit) return error_response(limit.error());
  filter.limit = *limit;
  auto page = inventory::list_resources(deps.db, filter);
  if (!page) return error_response(page.error());
  return json_response(200, inventory::to_json(*page));
}

HttpResponse show_resource(ApiDependencies& deps, Call& call) {
  auto detail = inventory::get_resource(deps.db, call.params[0], call.params[1], call.params[2]);
  if (!detail) return error_response(detail.error());
  return json_response(200, inventory::to_json(*detail));
}

HttpResponse target_group_options(ApiDependencies& deps, Call& call) {
  auto group = deps.registry.find_target_group(call.params[0]);
  if (!group) return error_response(make_error(ErrorCode::not_found, "no target group '" + call.params[0] + "'"));
  auto limit = query_limit(call.target, 200, 1000);
  if (!limit) return error_response(limit.error());
  auto options = inventory::target_options(deps.db, routed_handlers(deps, group->id), group->kind_schema, *limit);
  if (!options) return error_response(options.error());
  json out = *options;
  out["target_group"] = group->id;
  out["kind"] = group->kind.text();
  return json_response(200, out);
}

}  // namespace gatehouse::host::api::detail
