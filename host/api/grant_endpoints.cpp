// Grants: request, list, show (with history), revoke. Requesters act only for their own subject and see only
// their own grants (someone else's grant is "not found", so its existence does not leak).
#include "api/endpoints.hpp"
#include "api/json_views.hpp"
#include "inventory/target_inventory.hpp"

#include <algorithm>

namespace gatehouse::host::api::detail {

using nlohmann::json;

namespace {

bool sees_all(const Call& call) { return auth::allows(call.principal.role, auth::Permission::read_all_grants); }

bool owns(const Call& call, const grants::GrantRecord& g) {
  return g.subject == call.principal.subject || g.created_by == call.principal.name;
}

// The grant if it exists and the caller may see it; 404 otherwise (the engine answers not_found for ids that
// cannot be grant ids, too).
Result<grants::GrantRecord> visible_grant(ApiDependencies& deps, const Call& call, const std::string& id) {
  const Error missing = make_error("not_found", "no grant '" + id + "'");
  auto grant = deps.engine.get(id);
  if (!grant) return grant.error().code == "not_found" ? missing : grant.take_error();
  if (!sees_all(call) && !owns(call, *grant)) return missing;
  return grant;
}

}  // namespace

HttpResponse list_grants(ApiDependencies& deps, Call& call) {
  grants::GrantFilter filter;
  const auto& q = call.target.query;
  for (const auto& [name, value] : q) {
    (void)value;
    if (name != "status" && name != "subject" && name != "target_group" && name != "limit")
      return error_response(make_error("invalid_argument", "unknown query parameter '" + name +
                                                               "' (filters: status, subject, target_group, limit)"));
  }
  if (auto s = q.find("status"); s != q.end()) {
    filter.status = grants::parse_grant_status(s->second);
    if (!filter.status)
      return error_response(make_error("invalid_argument", "query parameter 'status' must be one of pending, active, "
                                                           "revoking, revoked, expired, failed"));
  }
  if (auto s = q.find("subject"); s != q.end()) filter.subject = s->second;
  if (auto s = q.find("target_group"); s != q.end()) filter.target_group = s->second;
  auto limit = query_limit(call.target, 100, 1000);
  if (!limit) return error_response(limit.error());
  filter.limit = *limit;
  if (!sees_all(call)) {
    if (filter.subject && *filter.subject != call.principal.subject)
      return error_response(make_error("forbidden", "token '" + call.principal.name +
                                                        "' may only list grants of its own subject"));
    filter.subject = call.principal.subject;
  }
  auto list = deps.engine.list(filter);
  if (!list) return error_response(list.error());
  json out = json::array();
  for (const auto& g : *list) out.push_back(grant_json(g));
  return json_response(200, json{{"items", out}});
}

HttpResponse show_grant(ApiDependencies& deps, Call& call) {
  auto grant = visible_grant(deps, call, call.params[0]);
  if (!grant) return error_response(grant.error());
  auto history = deps.engine.history(grant->id);
  if (!history) return error_response(history.error());
  json out = grant_json(*grant);
  json entries = json::array();
  for (const auto& e : *history) entries.push_back(history_json(e));
  out["history"] = entries;
  return json_response(200, out);
}

HttpResponse request_grant(ApiDependencies& deps, Call& call) {
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_grant_request(*body);
  if (!parsed) return error_response(parsed.error());
  std::string subject = parsed->subject.empty() ? call.principal.subject : parsed->subject;
  call.audit_details = {{"subject", subject}, {"target_group", parsed->target_group}};
  if (call.principal.role != auth::Role::admin && subject != call.principal.subject)
    return error_response(make_error("forbidden", "token '" + call.principal.name +
                                                      "' may only request access for its own subject '" +
                                                      call.principal.subject + "'"));
  // Resource-typed target properties must name something the routed handlers have in their inventory.
  if (auto group = deps.registry.find_target_group(parsed->target_group)) {
    auto checked = inventory::check_target_against_inventory(deps.db, routed_handlers(deps, group->id),
                                                             group->kind_schema, parsed->target);
    if (!checked) return error_response(checked.error());
    if (!checked->unchecked.empty()) call.audit_details["not_checked_against_inventory"] = checked->unchecked;
  }
  grants::GrantRequestSpec spec;
  spec.subject = subject;
  spec.target_group = parsed->target_group;
  spec.target = parsed->target;
  spec.not_before = parsed->not_before;
  spec.duration = parsed->duration;
  spec.actor = call.principal.name;
  auto created = deps.engine.request(spec);
  if (!created) return error_response(created.error());
  call.audit_object = "grant/" + created->id;
  if (!parsed->reason.empty()) call.audit_details["reason"] = parsed->reason;
  deps.engine.wake();
  return json_response(201, grant_json(*created));
}

HttpResponse revoke_grant(ApiDependencies& deps, Call& call) {
  call.audit_object = "grant/" + call.params[0];
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_revoke(*body);
  if (!parsed) return error_response(parsed.error());
  auto grant = visible_grant(deps, call, call.params[0]);
  if (!grant) return error_response(grant.error());
  if (!auth::allows(call.principal.role, auth::Permission::revoke_any_grant) && !owns(call, *grant))
    return error_response(make_error("not_found", "no grant '" + call.params[0] + "'"));
  const std::string reason = parsed->reason.empty() ? "revoked by " + call.principal.name : parsed->reason;
  call.audit_details = {{"reason", reason}};
  auto revoked = deps.engine.revoke(grant->id, call.principal.name, reason);
  if (!revoked) return error_response(revoked.error());
  deps.engine.wake();
  return json_response(200, grant_json(*revoked));
}

}  // namespace gatehouse::host::api::detail
