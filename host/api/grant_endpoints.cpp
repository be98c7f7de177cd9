// Grants: request, list, show (with history), revoke. Requesters act only for their own subject and see only
// their own grants (someone else's grant is "not found", so its existence does not leak).
#include "api/endpoints.hpp"
#include "api/json_views.hpp"
#include "api/paging.hpp"
#include "api/target_availability.hpp"
#include "inventory/target_inventory.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

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
  const Error missing = make_error(ErrorCode::not_found, "no grant '" + id + "'");
  auto grant = deps.engine.get(id);
  if (!grant) return grant.error().code == ErrorCode::not_found ? missing : grant.take_error();
  if (!sees_all(call) && !owns(call, *grant)) return missing;
  return grant;
}

}  // namespace

std::map<std::string, long long> revokes_failing_by_handler(ApiDependencies& deps) {
  std::map<std::string, long long> out;
  auto counted = deps.db.with_transaction([&](pqxx::work& txn) {
    for (const auto& row : txn.exec("SELECT coalesce(handler_id, ''), count(*) FROM grants WHERE revoke_failing "
                                    "GROUP BY 1"))
      out[row[0].as<std::string>()] = row[1].as<long long>();
  });
  if (!counted) out.clear();
  return out;
}

void add_revokes_failing(ApiDependencies&, json& handler, const std::map<std::string, long long>& failing) {
  const auto it = failing.find(handler.value("id", ""));
  const long long n = it == failing.end() ? 0 : it->second;
  handler["health"]["revokes_failing"] = n;
  handler["health"]["revokes_failing_reason"] =
      n == 0 ? json(nullptr)
             : json(std::to_string(n) + (n == 1 ? " revoke" : " revokes") +
                    " failing: access it granted outlives its end until it confirms the revoke (gatehouse grant "
                    "list --status revoke-failing)");
}

namespace {

// The keyset position of a grant in the newest-first list: "<requested_at µs>,<id>".
std::string grant_position(const grants::GrantRecord& g) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(g.requested_at.time_since_epoch()).count();
  return std::to_string(us) + "," + g.id;
}

std::optional<grants::GrantCursor> parse_grant_position(const std::string& position) {
  const auto comma = position.find(',');
  if (comma == std::string::npos || comma == 0 || comma > 18) return std::nullopt;
  const std::string us = position.substr(0, comma);
  if (us.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  grants::GrantCursor cursor{std::stoll(us), position.substr(comma + 1)};
  if (cursor.id.size() != 36 || cursor.id.find_first_not_of("0123456789abcdef-") != std::string::npos)
    return std::nullopt;
  return cursor;
}

}  // namespace

HttpResponse list_grants(ApiDependencies& deps, Call& call) {
  grants::GrantFilter filter;
  const auto& q = call.target.query;
  for (const auto& [name, value] : q) {
    (void)value;
    if (name != "status" && name != "subject" && name != "target_group" && name != "limit" && name != "page_size" &&
        name != "page_token")
      return error_response(make_error(ErrorCode::invalid_argument,
                                       "unknown query parameter '" + name +
                                           "' (filters: status, subject, target_group; paging: page_size, page_token)"));
  }
  if (auto s = q.find("status"); s != q.end()) {
    // revoke-failing: revoking grants that no handler holding the access could revoke yet (revoke_failing).
    if (s->second == "revoke-failing" || s->second == "revoke_failing")
      filter.revoke_failing_only = true;
    else
      filter.status = grants::parse_grant_status(s->second);
    if (!filter.status && !filter.revoke_failing_only)
      return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'status' must be one of pending, active, "
                                                           "revoking, revoked, expired, failed, revoke-failing"));
  }
  if (auto s = q.find("subject"); s != q.end()) filter.subject = s->second;
  if (auto s = q.find("target_group"); s != q.end()) filter.target_group = s->second;
  auto size = page_size(call.target);
  if (!size) return error_response(size.error());
  if (!sees_all(call)) {
    if (filter.subject && *filter.subject != call.principal.subject)
      return error_response(make_error(ErrorCode::forbidden, "token '" + call.principal.name +
                                                        "' may only list grants of its own subject"));
    filter.subject = call.principal.subject;
  }
  // A page token belongs to the filters it was made under (visibility included: the forced subject).
  const std::string scope = json{{"status", filter.revoke_failing_only ? std::string("revoke-failing")
                                            : filter.status ? std::string(grants::to_string(*filter.status))
                                                            : std::string()},
                                 {"subject", filter.subject.value_or("")},
                                 {"target_group", filter.target_group.value_or("")}}
                                .dump();
  auto position = page_position(call.target, "grants", scope);
  if (!position) return error_response(position.error());
  if (!position->empty()) {
    filter.after = parse_grant_position(*position);
    if (!filter.after)
      return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'page_token' is damaged: pass the "
                                                           "next_page_token of the previous page unchanged"));
  }
  filter.limit = *size + 1;  // one more than the page: is there a next page?
  auto list = deps.engine.list(filter);
  if (!list) return error_response(list.error());
  json out = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < list->size() && i < *size; ++i) out.push_back(grant_json((*list)[i]));
  if (list->size() > *size) next = encode_page_token("grants", scope, grant_position((*list)[*size - 1]));
  return json_response(200, json{{"items", out}, {"next_page_token", next}});
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
  // Idempotency-Key first: a malformed key is refused whatever the body says.
  std::string key;
  if (call.request.idempotency_key) {
    if (auto valid = grants::check_idempotency_key(*call.request.idempotency_key); !valid)
      return error_response(valid.error());
    key = *call.request.idempotency_key;
  }
  auto body = body_of(call);
  if (!body) return error_response(body.error());
  auto parsed = parse_grant_request(*body);
  if (!parsed) return error_response(parsed.error());
  std::string subject = parsed->subject.empty() ? call.principal.subject : parsed->subject;
  call.audit_details = {{"subject", subject}, {"target_group", parsed->target_group}};
  if (!key.empty()) call.audit_details["idempotency_key"] = key;
  if (call.principal.role != auth::Role::admin && subject != call.principal.subject)
    return error_response(make_error(ErrorCode::forbidden, "token '" + call.principal.name +
                                                      "' may only request access for its own subject '" +
                                                      call.principal.subject + "'"));
  grants::GrantRequestSpec spec;
  spec.subject = subject;
  spec.target_group = parsed->target_group;
  spec.target = parsed->target;
  spec.not_before = parsed->not_before;
  spec.duration = parsed->duration;
  spec.actor = call.principal.name;
  spec.idempotency_key = key;
  // What the key stands for: the request as understood ("1h" and 3600 s are one request), reason included.
  spec.fingerprint = json{{"subject", subject},
                          {"target_group", parsed->target_group},
                          {"target", parsed->target},
                          {"duration_seconds", parsed->duration.count()},
                          {"not_before", parsed->not_before ? json(format_rfc3339(*parsed->not_before)) : json()},
                          {"reason", parsed->reason}}
                         .dump();
  // A retry answers with the first request's grant before anything that might have changed since is checked.
  auto replay = [&](const grants::GrantRecord& g) {
    call.audit_object = "grant/" + g.id;
    call.audit_details["replayed"] = true;
    auto response = json_response(200, grant_json(g));
    response.headers.emplace_back("Idempotent-Replayed", "true");
    return response;
  };
  if (!key.empty()) {
    auto earlier = deps.engine.find_idempotent(spec);
    if (!earlier) return error_response(earlier.error());
    if (*earlier) return replay(**earlier);
  }
  if (auto group = deps.registry.find_target_group(parsed->target_group)) {
    // Every routable handler degraded and naming this target unavailable: refused at once (target_availability).
    if (auto unavailable = refuse_unavailable_target(deps.registry, *group, parsed->target))
      return error_response(*unavailable);
    // Resource-typed target properties must name something the routed handlers have in their inventory.
    auto checked = inventory::check_target_against_inventory(deps.db, routed_handlers(deps, group->id),
                                                             group->kind_schema, parsed->target);
    if (!checked) return error_response(checked.error());
    if (!checked->unchecked.empty()) {
      call.audit_details["not_checked_against_inventory"] = checked->unchecked;
      std::string names;
      for (const auto& name : checked->unchecked) names += (names.empty() ? "" : ", ") + name;
      spec.request_note = "inventory check skipped for " + names + ": no inventory of that type yet (sync the handler)";
    }
  }
  auto created = deps.engine.request_idempotent(spec, [&](pqxx::work& txn, const grants::GrantRecord& g) {
    call.audit_object = "grant/" + g.id;
    if (!parsed->reason.empty()) call.audit_details["reason"] = parsed->reason;
    call.audit_in_transaction(txn);
  });
  if (!created) return error_response(created.error());
  if (created->replayed) return replay(created->grant);  // a concurrent retry stored the key first
  deps.engine.wake();  // its audit row went in with it (above)
  return json_response(201, grant_json(created->grant));
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
    return error_response(make_error(ErrorCode::not_found, "no grant '" + call.params[0] + "'"));
  // Force-closing and re-pointing decide whether access may be left behind: admins only.
  if ((parsed->force || !parsed->handler.empty()) && call.principal.role != auth::Role::admin)
    return error_response(make_error(ErrorCode::forbidden, "token '" + call.principal.name + "' has role " +
                                                      std::string(auth::role_name(call.principal.role)) +
                                                      ": only admins may " +
                                                      (parsed->force ? "force-close" : "re-point") + " a revoke"));
  // A force-closed grant (access_may_persist) was closed by an admin who decided the access may stay behind;
  // attempting its revoke again moves the access back to revoking, so that is the admins' decision too.
  if (grant->access_may_persist && grants::is_final(grant->status) && call.principal.role != auth::Role::admin)
    return error_response(make_error(ErrorCode::forbidden, "grant " + grant->id +
                                                      " was force-closed by an admin (access_may_persist): only "
                                                      "admins may attempt its revoke again"));
  // The engine records "revoked by <actor>[: <reason>]": the reason is passed as given, never defaulted here
  // (that made "revoked by dba: revoked by dba").
  call.audit_details = json::object();
  if (!parsed->reason.empty()) call.audit_details["reason"] = parsed->reason;
  if (parsed->force) call.audit_details["force"] = true;
  if (!parsed->handler.empty()) call.audit_details["handler"] = parsed->handler;
  grants::RevokeOptions options;
  options.force = parsed->force;
  options.handler = parsed->handler;
  auto revoked = deps.engine.revoke(grant->id, call.principal.name, parsed->reason, options,
                                    [&](pqxx::work& txn, const grants::GrantRecord& g) {
                                      if (g.access_may_persist) call.audit_details["access_may_persist"] = true;
                                      call.audit_in_transaction(txn);
                                    });
  if (!revoked) return error_response(revoked.error());
  deps.engine.wake();
  return json_response(200, grant_json(*revoked));
}

}  // namespace gatehouse::host::api::detail
