// Health checks (no token), readiness, Prometheus metrics and the audit log.
#include "api/endpoints.hpp"
#include "api/json_views.hpp"

namespace gatehouse::host::api::detail {

using nlohmann::json;

HttpResponse healthz(ApiDependencies&, Call&) { return json_response(200, json{{"status", "ok"}}); }

// Ready = not shutting down and the database answers: what a load balancer should route on.
HttpResponse readyz(ApiDependencies& deps, Call&) {
  if (deps.draining && deps.draining())
    return error_response(make_error("not_ready", "gatehoused is shutting down"));
  if (auto ping = deps.db.ping(); !ping)
    return error_response(make_error("not_ready", "the database does not answer: " + ping.error().code));
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
  for (const auto& h : deps.registry.handlers()) health[h.id] = h.health == registry::HealthStatus::healthy;
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = deps.metrics.render(by_state, health);
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
        return error_response(make_error("invalid_argument", "query parameter 'since' must be an RFC 3339 time"));
    } else if (name == "before") {
      if (value.empty() || value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos)
        return error_response(make_error("invalid_argument", "query parameter 'before' must be an audit entry id"));
      filter.before_id = std::stoll(value);
    } else if (name != "limit") {
      return error_response(make_error("invalid_argument", "unknown query parameter '" + name +
                                                               "' (filters: actor, action, object, since, before, limit)"));
    }
  }
  auto limit = query_limit(call.target, 100, 1000);
  if (!limit) return error_response(limit.error());
  filter.limit = *limit;
  auto entries = audit::list(deps.db, filter);
  if (!entries) return error_response(entries.error());
  json out = json::array();
  for (const auto& e : *entries) out.push_back(audit_json(e));
  return json_response(200, json{{"items", out}});
}

}  // namespace gatehouse::host::api::detail
