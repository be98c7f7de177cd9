// Providers, handlers, target groups and routes: thin over the registry, which enforces the rules.
#include "api/apply.hpp"
#include "api/endpoints.hpp"
#include "api/json_views.hpp"

namespace gatehouse::host::api::detail {

using nlohmann::json;

namespace {

json items(json list) { return json{{"items", std::move(list)}}; }

const json* schema_of(ApiDependencies& deps, const registry::ProviderRef& ref) {
  auto module = deps.catalog.find(ref);
  return module ? &module->schema() : nullptr;
}

json handler_with_routes(ApiDependencies& deps, const registry::HandlerInfo& h) {
  auto module = deps.catalog.find(h.provider);
  json out = handler_json(h, module ? &module->schema() : nullptr);
  json routes = json::array();
  for (const auto& r : deps.registry.routes())
    if (r.handler == h.id) routes.push_back(route_json(r));
  out["routes"] = routes;
  add_revokes_failing(deps, out, revokes_failing_by_handler(deps));
  return out;
}

Error not_found(const std::string& what, const std::string& id) {
  return make_error(ErrorCode::not_found, "no " + what + " '" + id + "'");
}

std::optional<registry::Isolation> isolation_of(const std::string& text) {
  if (text.empty()) return registry::Isolation::in_process;
  return registry::parse_isolation(text);
}

// The route's kind from the path, or the group's kind name (the default when a route was created without one).
Result<std::string> route_kind(ApiDependencies& deps, const Call& call) {
  if (call.params.size() > 2) return call.params[2];
  auto group = deps.registry.find_target_group(call.params[0]);
  if (!group) return not_found("target group", call.params[0]);
  return group->kind.kind;
}

}  // namespace

HttpResponse list_providers(ApiDependencies& deps, Call&) {
  json list = json::array();
  for (const auto& module : deps.catalog.list()) list.push_back(provider_json(*module, false));
  json refused = json::array();
  for (const auto& e : deps.catalog.refusals()) refused.push_back({{"code", e.code}, {"message", e.message}});
  json out = items(std::move(list));
  out["refused"] = refused;
  return json_response(200, out);
}

HttpResponse show_provider(ApiDependencies& deps, Call& call) {
  auto ref = registry::parse_provider_ref(call.params[0] + "/" + call.params[1]);
  if (!ref) return error_response(ref.error());
  auto module = deps.catalog.find(*ref);
  if (!module) return error_response(not_found("loaded provider", ref->text()));
  return json_response(200, provider_json(*module, true));
}

HttpResponse list_handlers(ApiDependencies& deps, Call&) {
  json list = json::array();
  const auto failing = revokes_failing_by_handler(deps);
  for (const auto& h : deps.registry.handlers()) {
    list.push_back(handler_json(h, schema_of(deps, h.provider)));
    add_revokes_failing(deps, list.back(), failing);
  }
  return json_response(200, items(std::move(list)));
}

HttpResponse show_handler(ApiDependencies& deps, Call& call) {
  auto h = deps.registry.handler(call.params[0]);
  if (!h) return error_response(not_found("handler", call.params[0]));
  return json_response(200, handler_with_routes(deps, *h));
}

HttpResponse create_handler(ApiDependencies& deps, Call& call) {
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_handler(*body);
  if (!parsed) return error_response(parsed.error());
  call.audit_object = "handler/" + parsed->id;
  call.audit_details = {{"provider", parsed->provider}};
  registry::HandlerSpec spec{parsed->id, parsed->provider, parsed->config};
  spec.isolation = *isolation_of(parsed->isolation);
  spec.backend = parsed->backend;
  auto created = deps.registry.create_handler(spec, call.audit_in_transaction);
  if (!created) return error_response(created.error());
  return json_response(201, handler_with_routes(deps, *created));
}

// Secret rotation and config changes without losing routes or grants: the handler keeps its id (so its routes
// and grants stay), gets a new instance built from the new config first (a refused config leaves the old one
// serving), and is 'unknown' until its next check. Absent fields keep their current values.
HttpResponse update_handler(ApiDependencies& deps, Call& call) {
  call.audit_object = "handler/" + call.params[0];
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_handler_update(*body);
  if (!parsed) return error_response(parsed.error());
  if (parsed->id && *parsed->id != call.params[0])
    return error_response(make_error(ErrorCode::invalid_argument,
                                     "the body names handler '" + *parsed->id + "' but the path names '" +
                                         call.params[0] + "'; a handler's id cannot change",
                                     {{"/id", "must be the id in the path"}}));
  auto current = deps.registry.handler(call.params[0]);
  if (!current) return error_response(not_found("handler", call.params[0]));
  registry::HandlerSpec spec{current->id, parsed->provider.value_or(current->provider.text()),
                             parsed->config.value_or(current->config)};
  spec.isolation = parsed->isolation ? *isolation_of(*parsed->isolation) : current->isolation;
  spec.backend = parsed->backend;  // nullopt keeps it
  call.audit_details = {{"provider", spec.provider}};
  if (parsed->backend) call.audit_details["backend"] = *parsed->backend;
  auto updated = deps.registry.update_handler(spec, call.audit_in_transaction);
  if (!updated) return error_response(updated.error());
  return json_response(200, handler_with_routes(deps, *updated));
}

HttpResponse delete_handler(ApiDependencies& deps, Call& call) {
  call.audit_object = "handler/" + call.params[0];
  auto deleted = deps.registry.delete_handler(call.params[0], call.audit_in_transaction);
  if (!deleted) return error_response(deleted.error());
  return json_response(200, json{{"deleted", "handler/" + call.params[0]}});
}

HttpResponse check_handler(ApiDependencies& deps, Call& call) {
  call.audit_object = "handler/" + call.params[0];
  if (!deps.registry.handler(call.params[0])) return error_response(not_found("handler", call.params[0]));
  if (!deps.health) return error_response(make_error(ErrorCode::unavailable, "health checks are not running"));
  auto outcome = deps.health->check_now(call.params[0]);
  if (!outcome) return error_response(outcome.error());
  auto h = deps.registry.handler(call.params[0]);
  if (!h) return error_response(not_found("handler", call.params[0]));
  return json_response(200, handler_with_routes(deps, *h));
}

HttpResponse list_target_groups(ApiDependencies& deps, Call&) {
  json list = json::array();
  for (const auto& g : deps.registry.target_groups()) list.push_back(target_group_json(g));
  return json_response(200, items(std::move(list)));
}

HttpResponse show_target_group(ApiDependencies& deps, Call& call) {
  auto g = deps.registry.find_target_group(call.params[0]);
  if (!g) return error_response(not_found("target group", call.params[0]));
  json out = target_group_json(*g);
  // Requesters see which routes exist only through whether they can be served: a count, not the handlers.
  int usable = 0;
  for (const auto& r : deps.registry.routes())
    if (r.target_group == g->id && r.valid && r.priority > 0 && deps.registry.handler_healthy(r.handler)) ++usable;
  out["available_routes"] = usable;
  if (auth::allows(call.principal.role, auth::Permission::read_control_plane)) {
    json routes = json::array();
    for (const auto& r : deps.registry.routes())
      if (r.target_group == g->id) routes.push_back(route_json(r));
    out["routes"] = routes;
  }
  return json_response(200, out);
}

HttpResponse create_target_group(ApiDependencies& deps, Call& call) {
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_target_group(*body);
  if (!parsed) return error_response(parsed.error());
  call.audit_object = "target_group/" + parsed->id;
  call.audit_details = {{"kind", parsed->kind}};
  registry::TargetGroupSpec spec{parsed->id, parsed->kind};
  if (parsed->max_duration) spec.max_duration = *parsed->max_duration;
  auto created = deps.registry.create_target_group(spec, call.audit_in_transaction);
  if (!created) return error_response(created.error());
  return json_response(201, target_group_json(*created));
}

HttpResponse delete_target_group(ApiDependencies& deps, Call& call) {
  call.audit_object = "target_group/" + call.params[0];
  auto deleted = deps.registry.delete_target_group(call.params[0], call.audit_in_transaction);
  if (!deleted) return error_response(deleted.error());
  return json_response(200, json{{"deleted", "target_group/" + call.params[0]}});
}

HttpResponse list_routes(ApiDependencies& deps, Call& call) {
  const auto group = call.target.query.find("target_group");
  const auto handler = call.target.query.find("handler");
  json list = json::array();
  for (const auto& r : deps.registry.routes()) {
    if (group != call.target.query.end() && r.target_group != group->second) continue;
    if (handler != call.target.query.end() && r.handler != handler->second) continue;
    list.push_back(route_json(r));
  }
  return json_response(200, items(std::move(list)));
}

HttpResponse create_route(ApiDependencies& deps, Call& call) {
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_route(*body);
  if (!parsed) return error_response(parsed.error());
  call.audit_object = "route/" + parsed->target_group + "/" + parsed->handler;
  call.audit_details = {{"priority", parsed->priority}};
  auto created = deps.registry.create_route({parsed->target_group, parsed->handler, parsed->kind, parsed->priority},
                                             call.audit_in_transaction);
  if (!created) return error_response(created.error());
  return json_response(201, route_json(*created));
}

HttpResponse set_route_priority(ApiDependencies& deps, Call& call) {
  call.audit_object = "route/" + call.params[0] + "/" + call.params[1];
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_priority(*body);
  if (!parsed) return error_response(parsed.error());
  auto kind = route_kind(deps, call);
  if (!kind) return error_response(kind.error());
  call.audit_details = {{"priority", parsed->priority}, {"kind", *kind}};
  auto updated = deps.registry.set_route_priority(call.params[0], call.params[1], *kind, parsed->priority,
                                                  call.audit_in_transaction);
  if (!updated) return error_response(updated.error());
  return json_response(200, route_json(*updated));
}

HttpResponse delete_route(ApiDependencies& deps, Call& call) {
  call.audit_object = "route/" + call.params[0] + "/" + call.params[1];
  auto kind = route_kind(deps, call);
  if (!kind) return error_response(kind.error());
  auto deleted = deps.registry.delete_route(call.params[0], call.params[1], *kind, call.audit_in_transaction);
  if (!deleted) return error_response(deleted.error());
  return json_response(200, json{{"deleted", "route/" + call.params[0] + "/" + call.params[1] + "/" + *kind}});
}

HttpResponse apply(ApiDependencies& deps, Call& call) {
  call.audit_object = "config";
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  const auto dry = call.target.query.find("dry_run");
  const bool dry_run = dry != call.target.query.end() && (dry->second == "true" || dry->second == "1");
  // Each change commits with its own entry (handler.create, route.update, … with "via": "apply"), so the log
  // holds every change an apply made even when a later one fails; the "apply" entry sums the call up after.
  const ChangeAudit audit_change = [&call](pqxx::work& txn, const PlannedChange& change) {
    const std::string kind = change.object.substr(0, change.object.find('/'));
    call.audit_change(txn, kind + "." + change.action, change.object, {{"via", "apply"}, {"detail", change.detail}});
  };
  auto report = apply_document(deps.registry, deps.catalog, *body, dry_run, audit_change);
  if (!report) return error_response(report.error());
  call.audit_details = {{"dry_run", dry_run}, {"changes", report->changed_count()}};
  return json_response(report->failed ? 409 : 200, report->to_json());
}

}  // namespace gatehouse::host::api::detail
