// Private to host/api: one function per endpoint, grouped by file (control_plane_endpoints.cpp,
// grant_endpoints.cpp, operations_endpoints.cpp). api_service.cpp matches the route, authenticates,
// authorizes and audits; an endpoint only does its job and says what it touched (for the audit log).
#pragma once

#include "api/api_service.hpp"
#include "api/request_parsing.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace gatehouse::host::api::detail {

struct Call {
  const HttpRequest& request;
  RequestTarget target;
  auth::Principal principal;
  std::vector<std::string> params;  // the {placeholders} of the matched route, in order
  std::string audit_object;         // what a mutating call touched ("handler/demo-a"); set by the endpoint
  nlohmann::json audit_details = nlohmann::json::object();
  // Set by api_service for a mutating call: writes its audit row (outcome "ok", audit_object and audit_details
  // as they are when it runs) in the caller's transaction. An endpoint passes it to the call that makes the
  // change, so the change and its row commit together; a call that refuses never runs it, and api_service
  // then writes the refusal's row on its own.
  store::BeforeCommit audit_in_transaction{};
  bool audited = false;  // audit_in_transaction ran (its transaction may still have failed to commit)
  // Writes the entry of one change the call made, in that change's transaction (apply: one per change).
  std::function<void(pqxx::work&, const std::string& action, const std::string& object, const nlohmann::json& details)>
      audit_change{};
};

using Endpoint = HttpResponse (*)(ApiDependencies&, Call&);

// Parses the body as a JSON object or returns the 400 to send.
Result<nlohmann::json> body_of(const Call& call);

// Control plane (control_plane_endpoints.cpp).
HttpResponse list_providers(ApiDependencies&, Call&);
HttpResponse show_provider(ApiDependencies&, Call&);
HttpResponse list_handlers(ApiDependencies&, Call&);
HttpResponse show_handler(ApiDependencies&, Call&);
HttpResponse create_handler(ApiDependencies&, Call&);
HttpResponse update_handler(ApiDependencies&, Call&);
HttpResponse delete_handler(ApiDependencies&, Call&);
HttpResponse check_handler(ApiDependencies&, Call&);
HttpResponse list_target_groups(ApiDependencies&, Call&);
HttpResponse show_target_group(ApiDependencies&, Call&);
HttpResponse create_target_group(ApiDependencies&, Call&);
HttpResponse delete_target_group(ApiDependencies&, Call&);
HttpResponse list_routes(ApiDependencies&, Call&);
HttpResponse create_route(ApiDependencies&, Call&);
HttpResponse set_route_priority(ApiDependencies&, Call&);
HttpResponse delete_route(ApiDependencies&, Call&);
HttpResponse apply(ApiDependencies&, Call&);

// Grants (grant_endpoints.cpp).
// Grants flagged revoke_failing, by the handler that owes their revoke (empty map when the database fails: it
// only decorates the answer). add_revokes_failing() puts the count and a sentence into a handler's JSON
// ("health": {"revokes_failing": N, "revokes_failing_reason": "N revokes failing: ..."}).
std::map<std::string, long long> revokes_failing_by_handler(ApiDependencies& deps);
void add_revokes_failing(ApiDependencies& deps, nlohmann::json& handler, const std::map<std::string, long long>& failing);
HttpResponse list_grants(ApiDependencies&, Call&);
HttpResponse show_grant(ApiDependencies&, Call&);
HttpResponse request_grant(ApiDependencies&, Call&);
HttpResponse revoke_grant(ApiDependencies&, Call&);

// Inventory (inventory_endpoints.cpp).
HttpResponse start_sync(ApiDependencies&, Call&);
HttpResponse list_sync_runs(ApiDependencies&, Call&);
HttpResponse show_sync_run(ApiDependencies&, Call&);
HttpResponse list_resources(ApiDependencies&, Call&);
HttpResponse show_resource(ApiDependencies&, Call&);
HttpResponse target_group_options(ApiDependencies&, Call&);
// Handlers of the group's routes with priority > 0: the ones that could serve its grants.
std::vector<std::string> routed_handlers(ApiDependencies& deps, const std::string& group);

// Operations (operations_endpoints.cpp).
HttpResponse healthz(ApiDependencies&, Call&);
HttpResponse readyz(ApiDependencies&, Call&);
HttpResponse metrics(ApiDependencies&, Call&);
HttpResponse list_audit(ApiDependencies&, Call&);

}  // namespace gatehouse::host::api::detail
