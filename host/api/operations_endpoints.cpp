// Health checks (no token), readiness, Prometheus metrics and the audit log.
#include "api/endpoints.hpp"
#include "api/json_views.hpp"
#include "api/paging.hpp"

namespace gatehouse::host::api::detail {

using nlohmann::json;

namespace {
// A Prometheus label value: backslash, quote and newline escaped.
std::string metric_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

HttpResponse healthz(ApiDependencies&, Call&) { return json_response(200, json{{"status", "ok"}}); }

// Ready = not shutting down and the database answers: what a load balancer should route on.
HttpResponse readyz(ApiDependencies& deps, Call&) {
  if (deps.draining && deps.draining())
    return error_response(make_error(ErrorCode::not_ready, "gatehoused is shutting down"));
  if (auto ping = deps.db.ping(); !ping)
    return error_response(make_error(ErrorCode::not_ready, "the database does not answer: " + std::string(ping.error().code_name())));
  return json_response(200, json{{"status", "ready"}});
}

HttpResponse metrics(ApiDependencies& deps, Call&) {
  std::map<std::string, long long> by_state;
  auto counted = deps.db.with_transaction([&](pqxx::work& txn) {
    for (const auto& row : txn.exec("SELECT status, count(*) FROM grants GROUP BY status"))
      by_state[row[0].as<std::string>()] = row[1].as<long long>();
  });
  if (!counted) return error_response(counted.error());
  std::map<std::string, bool> health;
  for (const auto& h : deps.registry.handlers()) health[h.id] = registry::is_routable(h.health);  // degraded serves
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = deps.metrics.render(by_state, health);
  // Revokes nobody holding the access could confirm yet, by the handler that owes them (host/routing/revoke.hpp).
  r.body += "# HELP gatehouse_grants_revoke_failing Grants whose revoke keeps failing (revoke_failing), by the "
            "handler that owes it.\n# TYPE gatehouse_grants_revoke_failing gauge\n";
  const auto failing = revokes_failing_by_handler(deps);
  for (const auto& h : deps.registry.handlers())
    if (!failing.contains(h.id)) r.body += "gatehouse_grants_revoke_failing{handler=\"" + h.id + "\"} 0\n";
  for (const auto& [handler, n] : failing)
    r.body += "gatehouse_grants_revoke_failing{handler=\"" + metric_label(handler) + "\"} " + std::to_string(n) + "\n";
  return r;
}

HttpResponse list_audit(ApiDependencies& deps, Call& call) {
  audit::AuditFilter filter;
  const auto& q = call.target.query;
  for (const auto& [name, value] : q) {
    if (name == "actor") filter.actor = value;
    else if (name == "action") filter.action = value;
    else if (name == "object") filter.object = value;
    else if (name == "since") {
      filter.since = parse_rfc3339(value);
      if (!filter.since)
        return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'since' must be an RFC 3339 time"));
    } else if (name == "before") {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
        return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'before' must be an audit entry id"));
      filter.before_id = std::stoll(value);
    } else if (name != "limit" && name != "page_size" && name != "page_token") {
      return error_response(make_error(ErrorCode::invalid_argument,
                                       "unknown query parameter '" + name +
                                           "' (filters: actor, action, object, since, before; paging: page_size, "
                                           "page_token)"));
    }
  }
  auto size = page_size(call.target);
  if (!size) return error_response(size.error());
  // Keyset on the entry id, newest first. A token belongs to the filters it was made under.
  const std::string scope = json{{"actor", filter.actor.value_or("")},
                                 {"action", filter.action.value_or("")},
                                 {"object", filter.object.value_or("")},
                                 {"since", q.count("since") ? q.at("since") : ""},
                                 {"before", q.count("before") ? q.at("before") : ""}}
                                .dump();
  auto position = page_position(call.target, "audit", scope);
  if (!position) return error_response(position.error());
  if (!position->empty()) {
    if (position->size() > 18 || position->find_first_not_of("0123456789") != std::string::npos)
      return error_response(make_error(ErrorCode::invalid_argument, "query parameter 'page_token' is damaged: pass the "
                                                           "next_page_token of the previous page unchanged"));
    filter.before_id = std::stoll(*position);  // past `before` already, when the walk started there
  }
  filter.limit = *size + 1;  // one more than the page: is there a next page?
  auto entries = audit::list(deps.db, filter);
  if (!entries) return error_response(entries.error());
  json out = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < entries->size() && i < *size; ++i) out.push_back(audit_json((*entries)[i]));
  if (entries->size() > *size) next = encode_page_token("audit", scope, std::to_string((*entries)[*size - 1].id));
  return json_response(200, json{{"items", out}, {"next_page_token", next}});
}

}  // namespace gatehouse::host::api::detail
